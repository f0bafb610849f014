package dev.sharedipc.operator.placement;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Taint;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What one node offers, as the {@link InstancePlacer} needs it: its labels and taints, whether it
 * takes new pods, its allocatable and already requested cpu (millicores), memory (bytes), pod slots
 * and every other resource it advertises (extended resources such as {@code nvidia.com/gpu},
 * hugepages, ephemeral-storage, in whole units), and the pods that hold them (for host ports and
 * pod anti-affinity). A snapshot; the placer never changes it.
 */
public record NodeInfo(
    String name,
    Map<String, String> labels,
    List<Taint> taints,
    boolean schedulable,
    boolean ready,
    long allocatableCpuMillis,
    long allocatableMemoryBytes,
    long allocatablePods,
    long requestedCpuMillis,
    long requestedMemoryBytes,
    long podCount,
    Map<String, Long> allocatableOther,
    Map<String, Long> requestedOther,
    List<Pod> pods) {

  public NodeInfo {
    labels = labels == null ? Map.of() : Map.copyOf(labels);
    taints = taints == null ? List.of() : List.copyOf(taints);
    allocatableOther = allocatableOther == null ? Map.of() : Map.copyOf(allocatableOther);
    requestedOther = requestedOther == null ? Map.of() : Map.copyOf(requestedOther);
    pods = pods == null ? List.of() : List.copyOf(pods);
  }

  /**
   * A node that advertises only cpu, memory and pod slots and whose pods are not known one by one.
   */
  public NodeInfo(
      String name,
      Map<String, String> labels,
      List<Taint> taints,
      boolean schedulable,
      boolean ready,
      long allocatableCpuMillis,
      long allocatableMemoryBytes,
      long allocatablePods,
      long requestedCpuMillis,
      long requestedMemoryBytes,
      long podCount) {
    this(
        name,
        labels,
        taints,
        schedulable,
        ready,
        allocatableCpuMillis,
        allocatableMemoryBytes,
        allocatablePods,
        requestedCpuMillis,
        requestedMemoryBytes,
        podCount,
        Map.of(),
        Map.of(),
        List.of());
  }

  /**
   * The same node with {@code bytes} more memory requested: memory held on the node outside every
   * pod's request.
   */
  public NodeInfo withMoreMemoryRequested(long bytes) {
    return new NodeInfo(
        name,
        labels,
        taints,
        schedulable,
        ready,
        allocatableCpuMillis,
        allocatableMemoryBytes,
        allocatablePods,
        requestedCpuMillis,
        requestedMemoryBytes + bytes,
        podCount,
        allocatableOther,
        requestedOther,
        pods);
  }

  /**
   * What is left of a resource other than cpu and memory; a resource the node does not advertise
   * has none.
   */
  public long freeOther(String resource) {
    return allocatableOther.getOrDefault(resource, 0L) - requestedOther.getOrDefault(resource, 0L);
  }

  public long freeCpuMillis() {
    return allocatableCpuMillis - requestedCpuMillis;
  }

  public long freeMemoryBytes() {
    return allocatableMemoryBytes - requestedMemoryBytes;
  }

  public long freePods() {
    return allocatablePods - podCount;
  }

  /**
   * From a Node and the pods bound to it. Succeeded and Failed pods hold nothing and are skipped;
   * pods being deleted still run (and hold their requests) until their containers stop, so they
   * count. Allocatable falls back to capacity, as the API server defaults it.
   */
  public static NodeInfo of(Node node, Collection<Pod> podsOnNode) {
    PodRequests.Resources requested = PodRequests.Resources.NONE;
    List<Pod> holding = new ArrayList<>();
    for (Pod pod : podsOnNode == null ? List.<Pod>of() : podsOnNode) {
      if (isTerminal(pod)) {
        continue;
      }
      requested = requested.plus(PodRequests.of(pod.getSpec()));
      holding.add(pod);
    }
    var spec = node.getSpec();
    var status = node.getStatus();
    Map<String, Quantity> allocatable = status == null ? null : status.getAllocatable();
    if (allocatable == null || allocatable.isEmpty()) {
      allocatable =
          status == null || status.getCapacity() == null ? Map.of() : status.getCapacity();
    }
    return new NodeInfo(
        node.getMetadata().getName(),
        node.getMetadata().getLabels(),
        spec == null ? List.of() : spec.getTaints(),
        spec == null || !Boolean.TRUE.equals(spec.getUnschedulable()),
        isReady(node),
        PodRequests.cpuMillis(allocatable.get("cpu")),
        PodRequests.memoryBytes(allocatable.get("memory")),
        PodRequests.count(allocatable.get("pods")),
        requested.cpuMillis(),
        requested.memoryBytes(),
        holding.size(),
        advertised(allocatable),
        requested.other(),
        holding);
  }

  /** Allocatable resources other than cpu, memory and pod slots, in whole units. */
  private static Map<String, Long> advertised(Map<String, Quantity> allocatable) {
    Map<String, Quantity> rest = new HashMap<>(allocatable);
    rest.remove("pods");
    return PodRequests.others(rest);
  }

  /**
   * Every node with the pods bound to it by {@code spec.nodeName}. Pods not bound yet (even ones
   * pinned to a node by affinity) count nowhere: add them yourself if they must be reserved.
   */
  public static List<NodeInfo> of(Collection<Node> nodes, Collection<Pod> pods) {
    Map<String, List<Pod>> byNode = new HashMap<>();
    for (Pod pod : pods) {
      String nodeName = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
      if (nodeName != null && !nodeName.isEmpty()) {
        byNode.computeIfAbsent(nodeName, n -> new ArrayList<>()).add(pod);
      }
    }
    List<NodeInfo> result = new ArrayList<>();
    for (Node node : nodes) {
      result.add(of(node, byNode.getOrDefault(node.getMetadata().getName(), List.of())));
    }
    return result;
  }

  private static boolean isTerminal(Pod pod) {
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    return "Succeeded".equals(phase) || "Failed".equals(phase);
  }

  private static boolean isReady(Node node) {
    if (node.getStatus() == null || node.getStatus().getConditions() == null) {
      return false;
    }
    for (NodeCondition c : node.getStatus().getConditions()) {
      if ("Ready".equals(c.getType())) {
        return "True".equals(c.getStatus());
      }
    }
    return false;
  }
}
