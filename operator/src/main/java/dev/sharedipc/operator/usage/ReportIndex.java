package dev.sharedipc.operator.usage;

import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcNode;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Which node reports can count for a group, found through informer indexes instead of a scan of
 * every report: the reports that name the group (by its labels or its orphans removed), the reports
 * that list one of its pods by UID only, and the reports of the nodes its pods are bound to. {@link
 * NodeUsage} counts nothing from any other report, so a group's usage read from these equals its
 * usage read from all of them, and one reconcile costs the reports of its own nodes.
 *
 * <p>The same three ways serve the mapper the other way round, from a report update to the groups
 * it can count for: those it names or named ({@link ReportedGroups}) and those with pods bound to
 * its node ({@link #POD_BY_NODE}, an index of the operator's own pods; pods the report lists by UID
 * are on its node too). So a group that a report can count for without naming it (a hostIPC
 * instance, or any instance on the node of a report that lists nothing of it) is woken when that
 * report is written, and one report update looks only at the groups of its own node.
 */
public final class ReportIndex {
  /** Index of reports by the groups they name, "namespace/name" (as {@link NodeUsage#groupsIn}). */
  public static final String BY_GROUP = "sharedipc.dev/report-by-group";

  /** Index of reports by the pod UIDs their entries carry. */
  public static final String BY_POD_UID = "sharedipc.dev/report-by-pod-uid";

  /** Index of the operator's own pods by the node they are bound to (owned-pods informer). */
  public static final String POD_BY_NODE = "sharedipc.dev/pod-by-node";

  /** What the operator's caches answer: reports by index key, and one report by its node's name. */
  public interface Lookup {
    List<SharedIpcNode> byIndex(String index, String key);

    Optional<SharedIpcNode> ofNode(String node);
  }

  private ReportIndex() {}

  /** The keys of {@link #BY_GROUP} for one report. */
  public static List<String> groupKeys(SharedIpcNode report) {
    return List.copyOf(NodeUsage.groupsIn(report));
  }

  /** The keys of {@link #BY_POD_UID} for one report: every pod UID an entry carries. */
  public static List<String> podUidKeys(SharedIpcNode report) {
    SharedIpcNodeStatus status = report.getStatus();
    if (status == null) {
      return List.of();
    }
    TreeSet<String> uids = new TreeSet<>();
    Stream.concat(
            Optional.ofNullable(status.getIpcNamespaces()).orElse(List.of()).stream()
                .map(r -> r.podUid),
            Optional.ofNullable(status.getMemoryVolumes()).orElse(List.of()).stream()
                .map(v -> v.podUid))
        .filter(uid -> uid != null && !uid.isEmpty())
        .forEach(uids::add);
    return List.copyOf(uids);
  }

  /** The keys of {@link #POD_BY_NODE} for one pod: its node, once bound. */
  public static List<String> nodeKeys(Pod pod) {
    String node = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
    return node == null || node.isEmpty() ? List.of() : List.of(node);
  }

  /**
   * The group that controls the pod, as "namespace/name" (as {@link NodeUsage#groupsIn}); empty for
   * a pod no SharedIpcGroup controls.
   */
  public static Optional<String> controllingGroup(Pod pod) {
    return Optional.ofNullable(pod.getMetadata().getOwnerReferences()).orElse(List.of()).stream()
        .filter(o -> Boolean.TRUE.equals(o.getController()) && "SharedIpcGroup".equals(o.getKind()))
        .map(o -> pod.getMetadata().getNamespace() + "/" + o.getName())
        .findFirst();
  }

  /** The reports that can count for the group, each once, by node name. */
  public static List<SharedIpcNode> reportsOf(
      SharedIpcGroup group, List<Pod> ownedPods, Lookup lookup) {
    Map<String, SharedIpcNode> found = new TreeMap<>();
    String key = group.getMetadata().getNamespace() + "/" + group.getMetadata().getName();
    lookup.byIndex(BY_GROUP, key).forEach(r -> found.put(r.getMetadata().getName(), r));
    for (Pod pod : ownedPods) {
      String uid = pod.getMetadata().getUid();
      if (uid != null) {
        lookup.byIndex(BY_POD_UID, uid).forEach(r -> found.put(r.getMetadata().getName(), r));
      }
      String node = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
      if (node != null && !found.containsKey(node)) {
        lookup.ofNode(node).ifPresent(r -> found.put(node, r));
      }
    }
    return new ArrayList<>(found.values());
  }
}
