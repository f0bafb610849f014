package dev.sharedipc.operator.usage;

import dev.sharedipc.api.v1alpha1.SharedIpcNode;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which groups a change of a node report concerns: those the new version mentions and those the
 * version before it mentioned, since a group that vanished from a report must lose that usage. An
 * informer's mapper sees only the new object, so this remembers, per node, the groups of the last
 * two resource versions it was shown. Asking twice about one version gives the same answer (JOSDK
 * calls a mapper more than once per event).
 */
public final class ReportedGroups {
  /**
   * Bound on remembered nodes; beyond it the memory is dropped and only new reports' groups are
   * woken.
   */
  static final int MAX_NODES = 50_000;

  private record Seen(String resourceVersion, Set<String> groups, Set<String> before) {}

  private final Map<String, Seen> byNode = new ConcurrentHashMap<>();

  /**
   * Whether this version of the report was asked about before (JOSDK maps one event more than
   * once).
   */
  public boolean seen(SharedIpcNode report) {
    Seen seen = byNode.get(report.getMetadata().getName());
    return seen != null
        && report.getMetadata().getResourceVersion() != null
        && report.getMetadata().getResourceVersion().equals(seen.resourceVersion());
  }

  /** The groups of this report and of the one before it, as "namespace/name". */
  public Set<String> changedBy(SharedIpcNode report) {
    String node = report.getMetadata().getName();
    String version = report.getMetadata().getResourceVersion();
    Set<String> now = NodeUsage.groupsIn(report);
    if (byNode.size() > MAX_NODES) {
      byNode.clear();
    }
    Seen seen =
        byNode.compute(
            node,
            (n, last) -> {
              if (last != null && version != null && version.equals(last.resourceVersion())) {
                return last;
              }
              return new Seen(version, now, last == null ? Set.of() : last.groups());
            });
    Set<String> groups = new TreeSet<>(seen.groups());
    groups.addAll(seen.before());
    return groups;
  }

  /**
   * The groups the last report of this node mentioned (empty when none was seen): woken when the
   * Node itself goes.
   */
  public Set<String> lastOf(String node) {
    Seen seen = byNode.get(node);
    return seen == null ? Set.of() : seen.groups();
  }
}
