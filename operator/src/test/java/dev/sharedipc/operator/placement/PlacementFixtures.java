package dev.sharedipc.operator.placement;

import dev.sharedipc.api.Labels;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Taint;
import java.util.List;
import java.util.Map;

/** Nodes and member pods for placement tests, built as the API would return them. */
final class PlacementFixtures {
  private PlacementFixtures() {}

  static NodeBuilder nodeBuilder(String name, String cpu, String memory, int pods) {
    return new NodeBuilder()
        .withNewMetadata()
        .withName(name)
        .addToLabels("kubernetes.io/hostname", name)
        .endMetadata()
        .withNewSpec()
        .endSpec()
        .withNewStatus()
        .addToAllocatable("cpu", new Quantity(cpu))
        .addToAllocatable("memory", new Quantity(memory))
        .addToAllocatable("pods", new Quantity(Integer.toString(pods)))
        .addNewCondition()
        .withType("Ready")
        .withStatus("True")
        .endCondition()
        .endStatus();
  }

  static NodeInfo node(String name, String cpu, String memory, int pods) {
    return NodeInfo.of(nodeBuilder(name, cpu, memory, pods).build(), List.of());
  }

  static NodeInfo node(Node node) {
    return NodeInfo.of(node, List.of());
  }

  static NodeInfo labelled(String name, Map<String, String> labels) {
    return node(
        nodeBuilder(name, "8", "16Gi", 110)
            .editMetadata()
            .addToLabels(labels)
            .endMetadata()
            .build());
  }

  static NodeInfo tainted(String name, Taint... taints) {
    return node(
        nodeBuilder(name, "8", "16Gi", 110).editSpec().addToTaints(taints).endSpec().build());
  }

  static Container container(String name, String cpuRequest, String memoryRequest) {
    ContainerBuilder b =
        new ContainerBuilder()
            .withName(name)
            .withImage("busybox")
            .withNewResources()
            .endResources();
    if (cpuRequest != null) {
      b.editResources().addToRequests("cpu", new Quantity(cpuRequest)).endResources();
    }
    if (memoryRequest != null) {
      b.editResources().addToRequests("memory", new Quantity(memoryRequest)).endResources();
    }
    return b.build();
  }

  /** A member pod with one container named like the member. */
  static PodSpecBuilder member(String name, String cpu, String memory) {
    return new PodSpecBuilder().addToContainers(container(name, cpu, memory));
  }

  static PodSpec pod(String name, String cpu, String memory) {
    return member(name, cpu, memory).build();
  }

  static InstanceDemand instance(int index, PodSpec... members) {
    return demand(index, 0, members);
  }

  static InstanceDemand demand(int index, long extraMemoryBytes, PodSpec... members) {
    List<Pod> pods = new java.util.ArrayList<>();
    for (PodSpec spec : members) {
      pods.add(memberPod(index, spec, Map.of()));
    }
    return new InstanceDemand(index, pods, extraMemoryBytes);
  }

  /**
   * A rendered member pod of group g in namespace ns, named after its first container, with extra
   * labels.
   */
  static Pod memberPod(int index, PodSpec spec, Map<String, String> labels) {
    String member = spec.getContainers().get(0).getName();
    return new PodBuilder()
        .withNewMetadata()
        .withNamespace("ns")
        .withName("g-" + index + "-" + member)
        .addToLabels(Labels.GROUP, "g")
        .addToLabels(Labels.INSTANCE, Integer.toString(index))
        .addToLabels(Labels.MEMBER, member)
        .addToLabels(labels)
        .endMetadata()
        .withSpec(spec)
        .build();
  }

  /** A pod of someone else already bound to a node. */
  static Pod running(
      String namespace, String name, String node, PodSpec spec, Map<String, String> labels) {
    spec.setNodeName(node);
    return new PodBuilder()
        .withNewMetadata()
        .withNamespace(namespace)
        .withName(name)
        .withLabels(labels)
        .endMetadata()
        .withSpec(spec)
        .withNewStatus()
        .withPhase("Running")
        .endStatus()
        .build();
  }
}
