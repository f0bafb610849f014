package dev.sharedipc.agent.report;

import dev.sharedipc.agent.attribution.Attribution;
import dev.sharedipc.agent.reap.Action;
import dev.sharedipc.agent.reap.Decision;
import dev.sharedipc.agent.reap.SharedDirDecision;
import dev.sharedipc.agent.scan.MemoryVolume;
import dev.sharedipc.agent.survey.Finding;
import dev.sharedipc.agent.survey.Findings;
import dev.sharedipc.agent.survey.IpcObjects;
import dev.sharedipc.agent.verdict.SharedDirVerdict;
import dev.sharedipc.agent.verdict.Verdict;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * The agent's Prometheus metrics: prefix {@code sharedipc_}, base units (bytes, seconds), labels
 * only from bounded sets (verdict, action, volume kind, queue kind, informer, and group through
 * {@link RemovalCounts} or, for semaphore sets and message queues, the {@value #MAX_GROUP_SERIES}
 * largest groups of the pass), and per-segment labels only on {@code
 * sharedipc_orphan_segment_bytes}, which holds the {@value #TOP_ORPHANS} largest orphans.
 */
public final class Metrics {
  public static final int TOP_ORPHANS = 20;

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Gauge namespaces =
      gauge("sharedipc_ipc_namespaces", "IPC namespaces seen on the node.", null);
  private final Gauge segments =
      gauge("sharedipc_segments", "System V segments, by verdict.", null, "verdict");
  private final Gauge segmentBytes =
      gauge(
          "sharedipc_segment_size_bytes",
          "Size of System V segments, by verdict.",
          Unit.BYTES,
          "verdict");
  private final Gauge residentBytes =
      gauge(
          "sharedipc_segment_resident_bytes",
          "Resident memory of all System V segments.",
          Unit.BYTES);
  private final Gauge swapBytes =
      gauge(
          "sharedipc_segment_swap_bytes",
          "Swapped-out memory of all System V segments.",
          Unit.BYTES);
  private final Gauge orphanBytes =
      gauge(
          "sharedipc_orphan_segment_size_bytes",
          "The largest orphaned segments (at most " + TOP_ORPHANS + "), one series each.",
          Unit.BYTES,
          "ipc_namespace",
          "shmid",
          "key",
          "pod_uid",
          "group");
  private final Gauge volumeUsed =
      gauge(
          "sharedipc_memory_volume_used_bytes",
          "Bytes used in memory-backed volumes, by kind.",
          Unit.BYTES,
          "kind");
  private final Gauge volumeSize =
      gauge(
          "sharedipc_memory_volume_size_bytes",
          "Size of memory-backed volumes, by kind.",
          Unit.BYTES,
          "kind");
  private final Gauge volumes =
      gauge("sharedipc_memory_volumes", "Memory-backed volumes, by kind.", null, "kind");
  private final Gauge scanDuration =
      gauge("sharedipc_scan_duration_seconds", "Duration of the last scan.", Unit.SECONDS);
  private final Gauge lastScan =
      gauge(
          "sharedipc_last_scan_timestamp_seconds",
          "When the last scan finished, seconds since the epoch.",
          Unit.SECONDS);
  private final Gauge problems =
      gauge(
          "sharedipc_scan_problems",
          "Problems noted in the last scan (unreadable namespaces, malformed lines).",
          null);
  private final Gauge apiUp =
      gauge(
          "sharedipc_api_server_up",
          "1 when the last report was written to the API server within the pass's wait (see NodeReporter).",
          null);
  private final Gauge shmmni =
      gauge("sharedipc_kernel_shmmni", "kernel.shmmni: most segments per IPC namespace.", null);
  private final Gauge shmmax =
      gauge("sharedipc_kernel_shmmax_bytes", "kernel.shmmax: largest segment.", Unit.BYTES);
  // --- semaphore sets and message queues (inventoried, never removed), by group: bounded, see
  // byGroupLabels ---
  private final Gauge semaphoreSets =
      gauge(
          "sharedipc_semaphore_sets",
          "System V semaphore sets, by group (namespace/name; "
              + NO_GROUP
              + " for pods in no group and unattributed namespaces; at most "
              + MAX_GROUP_SERIES
              + " groups, the rest under "
              + RemovalCounts.OTHER
              + ").",
          null,
          "group");
  private final Gauge semaphores =
      gauge(
          "sharedipc_semaphores",
          "Semaphores in those sets, by group (as sharedipc_semaphore_sets).",
          null,
          "group");
  private final Gauge messageQueues =
      gauge(
          "sharedipc_message_queues",
          "Message queues, by kind (sysv, posix: where readable) and group (as sharedipc_semaphore_sets).",
          null,
          "kind",
          "group");
  private final Gauge messageQueueBytes =
      gauge(
          "sharedipc_message_queue_bytes",
          "Bytes waiting in message queues, by kind (sysv, posix) and group (as sharedipc_semaphore_sets).",
          Unit.BYTES,
          "kind",
          "group");
  private final Gauge posixQueuesUnknown =
      gauge(
          "sharedipc_posix_message_queues_unknown_namespaces",
          "IPC namespaces whose POSIX message queues could not be read (no mqueue filesystem at /dev/mqueue of any of their processes).",
          null);

  /**
   * Group series per gauge: a node holds far fewer groups, but a label must never grow with what
   * workloads do.
   */
  public static final int MAX_GROUP_SERIES = RemovalCounts.MAX_GROUPS;

  public static final String NO_GROUP = "_none";

  /**
   * Counters (and, in {@link #gauge}, gauges) without exemplars: the agent has no traces to link
   * to, and the exemplar sampler runs a thread of its own.
   */
  private static Counter.Builder counter() {
    return Counter.builder().withoutExemplars();
  }

  private final Counter scans =
      counter().name("sharedipc_scans").help("Scans run.").register(registry);
  private final Counter decisions =
      counter()
          .name("sharedipc_reaper_decisions")
          .help(
              "Reaper decisions on orphans, by action (Removed, WouldRemove, Spared, Failed, Kept).")
          .labelNames("action")
          .register(registry);
  private final RemovalCounts removedSegments = new RemovalCounts();
  private final RemovalCounts removedSharedDirs = new RemovalCounts();
  private volatile Supplier<Map<String, Boolean>> informersSynced = Map::of;
  private final Counter removedBytes =
      counter()
          .name("sharedipc_segments_removed_bytes")
          .help("Bytes of segments removed.")
          .unit(Unit.BYTES)
          .register(registry);

  private final Counter sharedDirDecisions =
      counter()
          .name("sharedipc_shared_directory_decisions")
          .help(
              "Decisions on SameNode shared directories whose instance is gone, by action (Removed, WouldRemove, Spared, Failed, Kept).")
          .labelNames("action")
          .register(registry);

  public Metrics() {
    byGroup(
        "sharedipc_segments_removed",
        "Segments removed, by group (namespace/name)",
        removedSegments);
    byGroup(
        "sharedipc_shared_directories_removed",
        "SameNode shared directories removed after their instance was gone, by group "
            + "(namespace/name)",
        removedSharedDirs);
    GaugeWithCallback.builder()
        .name("sharedipc_informer_synced")
        .help(
            "1 once the informer (pods: this node's pods; groups: SharedIpcGroups) has listed from the API server, 0 before.")
        .labelNames("informer")
        .callback(
            cb -> informersSynced.get().forEach((name, synced) -> cb.call(synced ? 1 : 0, name)))
        .register(registry);
  }

  /**
   * A counter by group read from bounded counts: at most {@value RemovalCounts#MAX_GROUPS} groups,
   * the rest under {@code _other}.
   */
  private void byGroup(String name, String help, RemovalCounts counts) {
    CounterWithCallback.builder()
        .name(name)
        .help(
            help
                + "; at most "
                + RemovalCounts.MAX_GROUPS
                + " groups, those with the latest removals, each with its own series, "
                + "the rest summed under group=\""
                + RemovalCounts.OTHER
                + "\" (a group that loses its series moves its count there).")
        .labelNames("group")
        .callback(
            cb -> {
              counts.byGroup().forEach((group, n) -> cb.call(n, group));
              long other = counts.other();
              if (other > 0) {
                cb.call(other, RemovalCounts.OTHER);
              }
            })
        .register(registry);
  }

  private Gauge gauge(String name, String help, Unit unit, String... labels) {
    Gauge.Builder b = Gauge.builder().withoutExemplars().name(name).help(help).labelNames(labels);
    if (unit != null) {
      b.unit(unit);
    }
    return b.register(registry);
  }

  public synchronized void recordScan(Findings f) {
    scans.inc();
    namespaces.set(f.namespaces().size());
    Map<Verdict, long[]> byVerdict = new EnumMap<>(Verdict.class);
    for (Verdict v : Verdict.values()) {
      byVerdict.put(v, new long[2]);
    }
    long rss = 0;
    long swap = 0;
    for (Finding x : f.segments()) {
      long[] c = byVerdict.get(x.judgement().verdict());
      c[0]++;
      c[1] += x.segment().bytes();
      rss += Math.max(0, x.segment().rssBytes());
      swap += Math.max(0, x.segment().swapBytes());
    }
    byVerdict.forEach(
        (v, c) -> {
          segments.labelValues(v.name()).set(c[0]);
          segmentBytes.labelValues(v.name()).set(c[1]);
        });
    residentBytes.set(rss);
    swapBytes.set(swap);
    orphanBytes.clear();
    f.segments().stream()
        .filter(x -> x.judgement().verdict().orphan())
        .sorted(Comparator.comparingLong((Finding x) -> x.segment().bytes()).reversed())
        .limit(TOP_ORPHANS)
        .forEach(
            x ->
                orphanBytes
                    .labelValues(
                        Long.toString(x.segment().ipcNamespace()),
                        Integer.toString(x.segment().shmid()),
                        x.segment().keyHex(),
                        nullToEmpty(x.attribution().podUid()),
                        nullToEmpty(x.attribution().groupKey()))
                    .set(x.segment().bytes()));
    for (MemoryVolume.Kind k : MemoryVolume.Kind.values()) {
      List<MemoryVolume> of = f.volumes().stream().filter(v -> v.kind() == k).toList();
      volumes.labelValues(k.name()).set(of.size());
      volumeUsed.labelValues(k.name()).set(of.stream().mapToLong(MemoryVolume::usedBytes).sum());
      volumeSize.labelValues(k.name()).set(of.stream().mapToLong(MemoryVolume::sizeBytes).sum());
    }
    recordIpcObjects(f.ipcObjects());
    scanDuration.set(f.duration().toNanos() / 1e9);
    lastScan.set(f.scannedAt().plus(f.duration()).toEpochMilli() / 1000.0);
    problems.set(f.problems().size());
    if (f.limits() != null) {
      shmmni.set(f.limits().shmmni());
      shmmax.set(f.limits().shmmax().doubleValue());
    }
  }

  private void recordIpcObjects(IpcObjects o) {
    Map<String, long[]> sem = new HashMap<>();
    Map<String, long[]> sysv = new HashMap<>();
    Map<String, long[]> posix = new HashMap<>();
    o.semaphoreSets().forEach(x -> add(sem, x.attribution(), x.object().nsems()));
    o.messageQueues().forEach(x -> add(sysv, x.attribution(), x.object().queuedBytes()));
    o.posixQueues()
        .forEach(x -> add(posix, x.attribution(), Math.max(0, x.object().queuedBytes())));
    semaphoreSets.clear();
    semaphores.clear();
    byGroupLabels(sem)
        .forEach(
            (group, c) -> {
              semaphoreSets.labelValues(group).set(c[0]);
              semaphores.labelValues(group).set(c[1]);
            });
    messageQueues.clear();
    messageQueueBytes.clear();
    byGroupLabels(sysv)
        .forEach(
            (group, c) -> {
              messageQueues.labelValues("sysv", group).set(c[0]);
              messageQueueBytes.labelValues("sysv", group).set(c[1]);
            });
    byGroupLabels(posix)
        .forEach(
            (group, c) -> {
              messageQueues.labelValues("posix", group).set(c[0]);
              messageQueueBytes.labelValues("posix", group).set(c[1]);
            });
    posixQueuesUnknown.set(o.posixQueuesUnreadable().size());
  }

  /**
   * Counts one object (and its amount: semaphores, bytes) under its group key, {@link #NO_GROUP}
   * when it has none.
   */
  private static void add(Map<String, long[]> counts, Attribution a, long amount) {
    long[] c =
        counts.computeIfAbsent(a.groupKey() == null ? NO_GROUP : a.groupKey(), k -> new long[2]);
    c[0]++;
    c[1] += amount;
  }

  /**
   * The label values of one pass: the {@value #MAX_GROUP_SERIES} groups with the most objects keep
   * their own series, the rest are summed under {@code _other}, so a scrape never has more series
   * than that per kind.
   */
  static Map<String, long[]> byGroupLabels(Map<String, long[]> counts) {
    List<Map.Entry<String, long[]>> ordered =
        counts.entrySet().stream()
            .sorted(
                Comparator.comparingLong((Map.Entry<String, long[]> e) -> e.getValue()[0])
                    .reversed()
                    .thenComparing(Map.Entry::getKey))
            .toList();
    Map<String, long[]> out = new TreeMap<>();
    for (int i = 0; i < ordered.size(); i++) {
      Map.Entry<String, long[]> e = ordered.get(i);
      String label = i < MAX_GROUP_SERIES ? e.getKey() : RemovalCounts.OTHER;
      long[] c = out.computeIfAbsent(label, k -> new long[2]);
      c[0] += e.getValue()[0];
      c[1] += e.getValue()[1];
    }
    return out;
  }

  public synchronized void recordDecision(Decision d) {
    if (d.action() == Action.Kept && !d.finding().judgement().verdict().orphan()) {
      return;
    }
    decisions.labelValues(d.action().name()).inc();
    if (d.action() == Action.Removed) {
      var pod = d.finding().attribution().pod();
      removedSegments.add(
          d.finding().attribution().groupKey(), pod == null ? null : pod.groupUid());
      removedBytes.inc(d.finding().segment().bytes());
    }
  }

  /**
   * Counts decisions on directories whose instance is gone; a present instance is not a decision
   * worth a series.
   */
  public synchronized void recordSharedDir(SharedDirDecision d) {
    SharedDirVerdict v = d.judgement().verdict();
    if (d.action() == Action.Kept
        && (v == SharedDirVerdict.InstancePresent || v == SharedDirVerdict.ClusterUnknown)) {
      return;
    }
    sharedDirDecisions.labelValues(d.action().name()).inc();
    if (d.action() == Action.Removed) {
      removedSharedDirs.add(d.owner().map(o -> o.groupKey()).orElse(null));
    }
  }

  // ---- POSIX shared-memory objects (issue "shared-memory inventory", items 1-3) ----

  /**
   * Groups with their own series in the POSIX object gauges (largest first); the rest are summed
   * under {@link RemovalCounts#OTHER}.
   */
  public static final int POSIX_GROUPS = RemovalCounts.MAX_GROUPS;

  private final Gauge posixObjects =
      gauge(
          "sharedipc_posix_objects",
          "POSIX shared-memory objects (files in memory volumes and the "
              + "host's /dev/shm), by group (namespace/name; \"\" for none; at most "
              + POSIX_GROUPS
              + " groups, the rest under \""
              + RemovalCounts.OTHER
              + "\") and whether they are orphans (open or mapped by no process).",
          null,
          "group",
          "orphan");
  private final Gauge posixObjectBytes =
      gauge(
          "sharedipc_posix_object_bytes",
          "Allocated bytes of POSIX shared-memory objects, by "
              + "group and orphan, as sharedipc_posix_objects.",
          Unit.BYTES,
          "group",
          "orphan");
  private final Gauge crashLoopGuard =
      gauge(
          "sharedipc_crash_loop_guard_volumes",
          "Memory volumes at least 90% full whose pod has a "
              + "container restarting, by whether one is in CrashLoopBackOff now.",
          null,
          "back_off");
  private final RemovalCounts removedPosixObjects = new RemovalCounts();
  private final Counter posixDecisions =
      counter()
          .name("sharedipc_posix_object_decisions")
          .help(
              "Decisions on orphaned POSIX objects, by action (Removed, WouldRemove, Spared, Failed, Kept).")
          .labelNames("action")
          .register(registry);

  {
    byGroup(
        "sharedipc_posix_objects_removed",
        "POSIX shared-memory objects removed, by group (namespace/name)",
        removedPosixObjects);
  }

  /**
   * Per-group gauges of the pass's POSIX objects, bounded to the {@value #POSIX_GROUPS} groups
   * holding the most bytes.
   */
  public synchronized void recordPosix(dev.sharedipc.agent.survey.PosixFindings p) {
    Map<String, long[]> byGroup = new java.util.HashMap<>();
    for (var o : p.objects()) {
      String group = o.pod() == null || o.pod().groupKey() == null ? "" : o.pod().groupKey();
      long[] c = byGroup.computeIfAbsent(group, g -> new long[4]);
      int at = o.judgement().orphan() ? 2 : 0;
      c[at]++;
      c[at + 1] += o.object().allocatedBytes();
    }
    List<String> kept =
        byGroup.entrySet().stream()
            .sorted(
                Comparator.comparingLong(
                        (Map.Entry<String, long[]> e) -> -(e.getValue()[1] + e.getValue()[3]))
                    .thenComparing(Map.Entry::getKey))
            .limit(POSIX_GROUPS)
            .map(Map.Entry::getKey)
            .toList();
    long[] other = new long[4];
    byGroup.forEach(
        (g, c) -> {
          if (!kept.contains(g)) {
            for (int i = 0; i < 4; i++) {
              other[i] += c[i];
            }
          }
        });
    posixObjects.clear();
    posixObjectBytes.clear();
    for (String g : kept) {
      setPosix(g, byGroup.get(g));
    }
    if (byGroup.size() > kept.size()) {
      setPosix(RemovalCounts.OTHER, other);
    }
    long backOff =
        p.volumes().stream().filter(v -> v.guard() != null && v.guard().inBackOff()).count();
    long restarted =
        p.volumes().stream().filter(v -> v.guard() != null && !v.guard().inBackOff()).count();
    crashLoopGuard.labelValues("true").set(backOff);
    crashLoopGuard.labelValues("false").set(restarted);
  }

  private void setPosix(String group, long[] c) {
    posixObjects.labelValues(group, "false").set(c[0]);
    posixObjectBytes.labelValues(group, "false").set(c[1]);
    posixObjects.labelValues(group, "true").set(c[2]);
    posixObjectBytes.labelValues(group, "true").set(c[3]);
  }

  /** Counts a decision on an orphaned object, and a removal per group. */
  public synchronized void recordPosixDecision(
      dev.sharedipc.agent.reap.PosixObjectReaper.Decision d,
      dev.sharedipc.agent.survey.PosixObjectFinding f) {
    if (d.action() == Action.Kept && !d.judgement().orphan()) {
      return;
    }
    posixDecisions.labelValues(d.action().name()).inc();
    if (d.action() == Action.Removed) {
      removedPosixObjects.add(f == null || f.pod() == null ? null : f.pod().groupKey());
    }
  }

  /**
   * POSIX objects removed per group, bounded: the same counts as {@code
   * sharedipc_posix_objects_removed_total}, for the node report.
   */
  public RemovalCounts removedPosixObjects() {
    return removedPosixObjects;
  }

  /**
   * Segments removed per group, bounded: the same counts as {@code
   * sharedipc_segments_removed_total}, for the node report.
   */
  public RemovalCounts removedSegments() {
    return removedSegments;
  }

  /** Where {@code sharedipc_informer_synced} reads from, at each scrape. */
  public void informersSynced(Supplier<Map<String, Boolean>> synced) {
    this.informersSynced = synced;
  }

  public void apiServerUp(boolean up) {
    apiUp.set(up ? 1 : 0);
  }

  /** The text exposition format (version 0.0.4). */
  public String scrape() {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
      PrometheusTextFormatWriter.create().write(out, registry.scrape());
      return out.toString(java.nio.charset.StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public static String contentType() {
    return PrometheusTextFormatWriter.CONTENT_TYPE;
  }

  private static String nullToEmpty(String s) {
    return s == null ? "" : s;
  }
}
