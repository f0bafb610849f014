package dev.sharedipc.agent.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Whether a new report differs materially from the one last written, so that a node where nothing
 * changes costs the API server nothing between heartbeats (see {@link
 * dev.sharedipc.api.ReportCadence}).
 *
 * <p>Material: any count, verdict, action, attribution, removal, condition status or reason, kernel
 * limit, and a byte figure that fills or drains over time (resident, used, allocated or queued
 * bytes) once it moved by at least a tenth of the larger value and at least 1 MiB. Not material:
 * the scan's time and duration, sentences that carry the time (an orphan's "unattached for 3m"
 * reason, a condition's message) and a condition's transition time: they are written with the next
 * material change or heartbeat. A pure function of two JSON trees of {@code SharedIpcNodeStatus}.
 */
public final class ReportChange {
  /**
   * Fields that change with every pass and say nothing new (an orphan's reason carries its idle
   * time).
   */
  static final Set<String> VOLATILE =
      Set.of("lastScanTime", "lastScanDurationSeconds", "reason", "message", "lastTransitionTime");

  /** Byte figures that move while programs write: material only past {@link #gaugeMoved}. */
  static final Set<String> GAUGES =
      Set.of(
          "rssBytes",
          "swapBytes",
          "usedBytes",
          "memoryVolumeUsedBytes",
          "objectBytes",
          "posixObjectBytes",
          "queuedBytes",
          "posixQueuedBytes");

  static final long MIN_GAUGE_DELTA = 1 << 20;

  private ReportChange() {}

  /**
   * The first material difference, as the JSON path that differs (for the log line), or empty when
   * the two reports say the same. A null {@code written} (nothing written yet) always differs.
   */
  public static Optional<String> material(JsonNode written, JsonNode next) {
    if (written == null) {
      return Optional.of("first report");
    }
    return diff("", null, written, next);
  }

  private static Optional<String> diff(String path, String field, JsonNode a, JsonNode b) {
    boolean aMissing = a == null || a.isNull() || a.isMissingNode();
    boolean bMissing = b == null || b.isNull() || b.isMissingNode();
    if (aMissing || bMissing) {
      return aMissing == bMissing ? Optional.empty() : Optional.of(path.isEmpty() ? "/" : path);
    }
    if (a.isObject() && b.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = a.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!ignored(path, e.getKey())) {
          Optional<String> d =
              diff(path + "/" + e.getKey(), e.getKey(), e.getValue(), b.get(e.getKey()));
          if (d.isPresent()) {
            return d;
          }
        }
      }
      for (Iterator<String> it = b.fieldNames(); it.hasNext(); ) {
        String name = it.next();
        if (!ignored(path, name) && !a.has(name) && !b.get(name).isNull()) {
          return Optional.of(path + "/" + name);
        }
      }
      return Optional.empty();
    }
    if (a.isArray() && b.isArray()) {
      if (a.size() != b.size()) {
        return Optional.of(path + " (" + a.size() + " -> " + b.size() + " entries)");
      }
      for (int i = 0; i < a.size(); i++) {
        Optional<String> d = diff(path + "/" + i, field, a.get(i), b.get(i));
        if (d.isPresent()) {
          return d;
        }
      }
      return Optional.empty();
    }
    if (field != null && GAUGES.contains(field) && a.isIntegralNumber() && b.isIntegralNumber()) {
      return gaugeMoved(a.longValue(), b.longValue())
          ? Optional.of(path + " (" + a.longValue() + " -> " + b.longValue() + ")")
          : Optional.empty();
    }
    if (a.isNumber() && b.isNumber()) {
      // equal numbers of another width are equal: the API server gives back 2 for a written 2.0
      return a.decimalValue().compareTo(b.decimalValue()) == 0
          ? Optional.empty()
          : Optional.of(path);
    }
    return a.equals(b) ? Optional.empty() : Optional.of(path);
  }

  /**
   * Volatile fields are ignored, except a condition's reason (CamelCase, no time in it), which says
   * what changed.
   */
  private static boolean ignored(String path, String field) {
    return VOLATILE.contains(field) && !(field.equals("reason") && path.startsWith("/conditions/"));
  }

  /** A byte figure moved materially: by at least a tenth of the larger value and at least 1 MiB. */
  static boolean gaugeMoved(long was, long now) {
    long delta = Math.abs(now - was);
    return delta >= MIN_GAUGE_DELTA && delta * 10 >= Math.max(Math.abs(was), Math.abs(now));
  }
}
