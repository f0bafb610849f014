package dev.sharedipc.operator.placement;

import static dev.sharedipc.operator.placement.PlacementFixtures.container;
import static dev.sharedipc.operator.placement.PlacementFixtures.nodeBuilder;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.TaintBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;

class NodeInfoTest {
  private static final long MI = 1024L * 1024;

  private static Pod pod(String name, String node, String phase, String cpu, String memory) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace("ns")
        .endMetadata()
        .withNewSpec()
        .withNodeName(node)
        .addToContainers(container("c", cpu, memory))
        .endSpec()
        .withNewStatus()
        .withPhase(phase)
        .endStatus()
        .build();
  }

  @Test
  void allocatableAndLabelsAndTaintsAreRead() {
    Node node =
        nodeBuilder("n1", "4", "8Gi", 110)
            .editMetadata()
            .addToLabels("disk", "ssd")
            .endMetadata()
            .editSpec()
            .addToTaints(
                new TaintBuilder().withKey("k").withValue("v").withEffect("NoSchedule").build())
            .endSpec()
            .build();
    NodeInfo info = NodeInfo.of(node, List.of());
    assertThat(info.name()).isEqualTo("n1");
    assertThat(info.labels()).containsEntry("disk", "ssd");
    assertThat(info.taints()).singleElement().extracting(t -> t.getKey()).isEqualTo("k");
    assertThat(info.ready()).isTrue();
    assertThat(info.schedulable()).isTrue();
    assertThat(info.allocatableCpuMillis()).isEqualTo(4000);
    assertThat(info.allocatableMemoryBytes()).isEqualTo(8192 * MI);
    assertThat(info.allocatablePods()).isEqualTo(110);
    assertThat(info.podCount()).isZero();
  }

  @Test
  void runningPendingAndDeletingPodsHoldResourcesButFinishedOnesDoNot() {
    Pod deleting =
        new PodBuilder(pod("d", "n1", "Running", "100m", "64Mi"))
            .editMetadata()
            .withDeletionTimestamp("2026-01-01T00:00:00Z")
            .endMetadata()
            .build();
    List<Pod> pods =
        List.of(
            pod("r", "n1", "Running", "1", "1Gi"),
            pod("p", "n1", "Pending", "500m", "512Mi"),
            deleting,
            pod("s", "n1", "Succeeded", "8", "64Gi"),
            pod("f", "n1", "Failed", "8", "64Gi"));
    NodeInfo info = NodeInfo.of(nodeBuilder("n1", "4", "8Gi", 110).build(), pods);
    assertThat(info.requestedCpuMillis()).isEqualTo(1600);
    assertThat(info.requestedMemoryBytes()).isEqualTo(1600 * MI);
    assertThat(info.podCount()).isEqualTo(3);
    assertThat(info.freeCpuMillis()).isEqualTo(2400);
    assertThat(info.freePods()).isEqualTo(107);
  }

  @Test
  void cordonedAndNotReadyNodesAreRecognised() {
    NodeInfo cordoned =
        NodeInfo.of(
            nodeBuilder("c", "4", "8Gi", 110).editSpec().withUnschedulable(true).endSpec().build(),
            List.of());
    assertThat(cordoned.schedulable()).isFalse();
    assertThat(cordoned.ready()).isTrue();
    NodeInfo notReady =
        NodeInfo.of(
            nodeBuilder("n", "4", "8Gi", 110)
                .editStatus()
                .withConditions()
                .addNewCondition()
                .withType("Ready")
                .withStatus("Unknown")
                .endCondition()
                .endStatus()
                .build(),
            List.of());
    assertThat(notReady.ready()).isFalse();
    NodeInfo noConditions =
        NodeInfo.of(
            nodeBuilder("x", "4", "8Gi", 110).editStatus().withConditions().endStatus().build(),
            List.of());
    assertThat(noConditions.ready()).isFalse();
  }

  @Test
  void capacityStandsInForMissingAllocatable() {
    Node node =
        new NodeBuilder()
            .withNewMetadata()
            .withName("n")
            .endMetadata()
            .withNewStatus()
            .addToCapacity("cpu", new Quantity("2"))
            .addToCapacity("memory", new Quantity("4Gi"))
            .addToCapacity("pods", new Quantity("10"))
            .endStatus()
            .build();
    NodeInfo info = NodeInfo.of(node, List.of());
    assertThat(info.allocatableCpuMillis()).isEqualTo(2000);
    assertThat(info.allocatableMemoryBytes()).isEqualTo(4096 * MI);
    assertThat(info.allocatablePods()).isEqualTo(10);
    assertThat(info.schedulable()).as("no spec means not cordoned").isTrue();
  }

  @Test
  void everyNodeGetsThePodsBoundToItByNodeName() {
    List<Node> nodes =
        List.of(
            nodeBuilder("a", "4", "8Gi", 110).build(), nodeBuilder("b", "4", "8Gi", 110).build());
    List<Pod> pods =
        List.of(
            pod("1", "a", "Running", "1", "1Gi"),
            pod("2", "b", "Running", "2", "2Gi"),
            pod("3", "a", "Running", "1", "1Gi"),
            pod("unbound", null, "Pending", "4", "4Gi"));
    List<NodeInfo> infos = NodeInfo.of(nodes, pods);
    assertThat(infos)
        .extracting(NodeInfo::name, NodeInfo::podCount, NodeInfo::requestedCpuMillis)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("a", 2L, 2000L),
            org.assertj.core.groups.Tuple.tuple("b", 1L, 2000L));
  }

  @Test
  void advertisedResourcesAndWhatPodsRequestOfThemAreRead() {
    Node node =
        nodeBuilder("g", "8", "16Gi", 110)
            .editStatus()
            .addToAllocatable("nvidia.com/gpu", new Quantity("4"))
            .addToAllocatable("example.com/none", new Quantity("0"))
            .addToAllocatable("ephemeral-storage", new Quantity("100Gi"))
            .endStatus()
            .build();
    Pod gpuJob =
        new PodBuilder(pod("job", "g", "Running", "1", "1Gi"))
            .editSpec()
            .editFirstContainer()
            .editResources()
            .addToLimits("nvidia.com/gpu", new Quantity("3"))
            .endResources()
            .endContainer()
            .endSpec()
            .build();
    Pod finished =
        new PodBuilder(pod("done", "g", "Succeeded", "1", "1Gi"))
            .editSpec()
            .editFirstContainer()
            .editResources()
            .addToLimits("nvidia.com/gpu", new Quantity("1"))
            .endResources()
            .endContainer()
            .endSpec()
            .build();
    NodeInfo info = NodeInfo.of(node, List.of(gpuJob, finished));
    assertThat(info.allocatableOther()).containsOnlyKeys("nvidia.com/gpu", "ephemeral-storage");
    assertThat(info.freeOther("nvidia.com/gpu")).isEqualTo(1);
    assertThat(info.freeOther("example.com/none"))
        .as("advertised at 0 or not at all: none free")
        .isZero();
    assertThat(info.freeOther("example.com/unknown")).isZero();
    assertThat(info.pods())
        .extracting(p -> p.getMetadata().getName())
        .as("the pods that hold the node, for ports and anti-affinity")
        .containsExactly("job");
  }

  @Test
  void memoryOutsideThePodsIsAddedAsRequested() {
    NodeInfo info =
        NodeInfo.of(nodeBuilder("n", "4", "8Gi", 110).build(), List.of())
            .withMoreMemoryRequested(512 * MI);
    assertThat(info.freeMemoryBytes()).isEqualTo(7680 * MI);
  }
}
