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
 * <p>The group index also serves the mapper: a hostIPC group is found by the nodes of its instances
 * ({@link #hostIpcNodes}), so one report update looks only at its own groups.
 */
public final class ReportIndex {
  /** Index of reports by the groups they name, "namespace/name" (as {@link NodeUsage#groupsIn}). */
  public static final String BY_GROUP = "sharedipc.dev/report-by-group";

  /** Index of reports by the pod UIDs their entries carry. */
  public static final String BY_POD_UID = "sharedipc.dev/report-by-pod-uid";

  /** Index of groups by the nodes of their hostIPC instances (primary cache). */
  public static final String HOST_IPC_NODE = "sharedipc.dev/group-by-hostipc-node";

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

  /**
   * The keys of {@link #HOST_IPC_NODE} for one group: the nodes of its instances when it is
   * hostIPC.
   */
  public static List<String> hostIpcNodes(SharedIpcGroup group) {
    if (!Boolean.TRUE.equals(group.getSpec().getHostIPC())
        || group.getStatus() == null
        || group.getStatus().getInstances() == null) {
      return List.of();
    }
    return group.getStatus().getInstances().stream()
        .map(i -> i.getNode())
        .filter(n -> n != null && !n.isEmpty())
        .distinct()
        .toList();
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
