package dev.sharedipc.operator.usage;

import dev.sharedipc.api.Labels;
import dev.sharedipc.api.v1alpha1.SegmentUsage;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcNode;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Sums what the node agents reported about one group: segments per instance (from each pod IPC
 * namespace entry), memory-volume bytes per instance, and orphans removed. A pure function of the
 * group and the SharedIpcNode reports.
 */
public final class NodeUsage {
  /** The group's share of the node reports. */
  public record GroupUsage(Map<Integer, SegmentUsage> segmentsByInstance, Map<Integer, Long> sharedMemoryUsedByInstance,
      long orphansRemoved) {
    public static final GroupUsage NONE = new GroupUsage(Map.of(), Map.of(), 0);

    public boolean isEmpty() {
      return segmentsByInstance.isEmpty() && sharedMemoryUsedByInstance.isEmpty() && orphansRemoved == 0;
    }
  }

  public GroupUsage of(SharedIpcGroup group, List<SharedIpcNode> nodes) {
    return of(group, nodes, List.of());
  }

  /**
   * As {@link #of(SharedIpcGroup, List)}, also counting entries the agent could attribute only to a
   * pod UID (for instance a pod's memory emptyDir): a UID of one of the group's own pods tells the instance.
   */
  public GroupUsage of(SharedIpcGroup group, List<SharedIpcNode> nodes, List<Pod> ownedPods) {
    String ns = group.getMetadata().getNamespace();
    String name = group.getMetadata().getName();
    Map<String, Integer> instanceByPodUid = new java.util.HashMap<>();
    for (Pod pod : ownedPods) {
      String index = pod.getMetadata().getLabels() == null ? null : pod.getMetadata().getLabels().get(Labels.INSTANCE);
      if (index != null && index.matches("[0-9]+")) {
        instanceByPodUid.put(pod.getMetadata().getUid(), Integer.valueOf(index));
      }
    }
    Map<Integer, SegmentUsage> segments = new TreeMap<>();
    Map<Integer, Long> volumes = new TreeMap<>();
    long removed = 0;
    for (SharedIpcNode node : nodes) {
      SharedIpcNodeStatus status = node.getStatus();
      if (status == null) {
        continue;
      }
      for (SharedIpcNodeStatus.NamespaceReport r : nullToEmpty(status.getIpcNamespaces())) {
        Integer instance = belongs(r.podNamespace, r.group, r.instance, ns, name) ? r.instance : instanceByPodUid.get(r.podUid);
        if (instance != null) {
          SegmentUsage u = segments.computeIfAbsent(instance, i -> new SegmentUsage(0, 0, 0, 0));
          u.setCount(u.getCount() + nz(r.segments));
          u.setBytes(u.getBytes() + nz(r.bytes));
          u.setRssBytes(u.getRssBytes() + nz(r.rssBytes));
          u.setOrphans(u.getOrphans() + nz(r.orphans));
        }
      }
      for (SharedIpcNodeStatus.VolumeReport v : nullToEmpty(status.getMemoryVolumes())) {
        Integer instance = belongs(v.podNamespace, v.group, v.instance, ns, name) ? v.instance : instanceByPodUid.get(v.podUid);
        if (instance != null) {
          volumes.merge(instance, nz(v.usedBytes), Long::sum);
        }
      }
      if (status.getOrphansRemovedByGroup() != null) {
        removed += nz(status.getOrphansRemovedByGroup().get(ns + "/" + name));
      }
    }
    return new GroupUsage(segments, volumes, removed);
  }

  /** Every group a node report mentions, as "namespace/name": which groups to reconcile when it changes. */
  public static Set<String> groupsIn(SharedIpcNode node) {
    Set<String> groups = new TreeSet<>();
    SharedIpcNodeStatus status = node.getStatus();
    if (status == null) {
      return groups;
    }
    nullToEmpty(status.getIpcNamespaces()).stream().filter(r -> r.group != null && r.podNamespace != null)
        .forEach(r -> groups.add(r.podNamespace + "/" + r.group));
    nullToEmpty(status.getMemoryVolumes()).stream().filter(v -> v.group != null && v.podNamespace != null)
        .forEach(v -> groups.add(v.podNamespace + "/" + v.group));
    if (status.getOrphansRemovedByGroup() != null) {
      groups.addAll(status.getOrphansRemovedByGroup().keySet());
    }
    return groups;
  }

  private static boolean belongs(String podNamespace, String group, Integer instance, String ns, String name) {
    return instance != null && Objects.equals(podNamespace, ns) && Objects.equals(group, name);
  }

  private static long nz(Long v) {
    return v == null ? 0 : v;
  }

  private static <T> List<T> nullToEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }
}
