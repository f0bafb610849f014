package dev.sharedipc.operator.placement;

import static dev.sharedipc.operator.placement.PlacementFixtures.container;
import static dev.sharedipc.operator.placement.PlacementFixtures.instance;
import static dev.sharedipc.operator.placement.PlacementFixtures.labelled;
import static dev.sharedipc.operator.placement.PlacementFixtures.member;
import static dev.sharedipc.operator.placement.PlacementFixtures.node;
import static dev.sharedipc.operator.placement.PlacementFixtures.nodeBuilder;
import static dev.sharedipc.operator.placement.PlacementFixtures.pod;
import static dev.sharedipc.operator.placement.PlacementFixtures.tainted;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.TaintBuilder;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class InstancePlacerTest {
  private static final long GI = 1024L * 1024 * 1024;
  private final InstancePlacer placer = new InstancePlacer();

  private List<NodeChoice> place(List<InstanceDemand> demands, NodeInfo... nodes) {
    return placer.place(demands, List.of(nodes), Map.of(), Set.of());
  }

  private NodeChoice placeOne(InstanceDemand demand, NodeInfo... nodes) {
    return place(List.of(demand), nodes).get(0);
  }

  private static List<InstanceDemand> instances(int count, PodSpec... members) {
    List<InstanceDemand> demands = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      demands.add(instance(i, members));
    }
    return demands;
  }

  private static String nodeOf(NodeChoice p) {
    assertThat(p).isInstanceOf(NodeChoice.Placed.class);
    return ((NodeChoice.Placed) p).node();
  }

  private static NodeChoice.NoFit noFit(NodeChoice p) {
    assertThat(p).isInstanceOf(NodeChoice.NoFit.class);
    return (NodeChoice.NoFit) p;
  }

  // ---- resources

  @Test
  void theWholeInstanceMustFitOnOneNode() {
    // Each member alone fits on small; the two together only on big.
    InstanceDemand demand =
        instance(0, pod("writer", "1500m", "1Gi"), pod("reader", "1500m", "1Gi"));
    assertThat(
            nodeOf(placeOne(demand, node("small", "2", "64Gi", 110), node("big", "4", "4Gi", 110))))
        .isEqualTo("big");
  }

  @Test
  void initContainersOverheadAndLimitsCountInTheInstanceDemand() {
    // writer: max(500m sum, 3 init) = 3 cpu; reader: limit 1 cpu as request + 500m overhead: 4500m
    // in all.
    PodSpec writer =
        member("writer", "500m", "1Gi").addToInitContainers(container("init", "3", "1Gi")).build();
    PodSpec reader =
        readerWithLimitOnly("1", "1Gi").addToOverhead("cpu", new Quantity("500m")).build();
    InstanceDemand demand = instance(0, writer, reader);
    assertThat(noFit(placeOne(demand, node("n", "4400m", "64Gi", 110))).message())
        .contains("cpu 4500m", "lacks cpu 100m");
    assertThat(nodeOf(placeOne(demand, node("n", "4500m", "64Gi", 110)))).isEqualTo("n");
  }

  @Test
  void sharedMemoryOutsideThePodsIsCounted() {
    PodSpec[] members = {pod("writer", "100m", "1Gi"), pod("reader", "100m", "1Gi")};
    NodeInfo node = node("n", "4", "4Gi", 110);
    assertThat(nodeOf(placeOne(PlacementFixtures.demand(0, 2 * GI, members), node))).isEqualTo("n");
    NodeChoice.NoFit tooMuch = noFit(placeOne(PlacementFixtures.demand(0, 3 * GI, members), node));
    assertThat(tooMuch.reason()).isEqualTo("NoNodeFits");
    assertThat(tooMuch.message())
        .contains("memory 5Gi of which 3Gi shared memory")
        .contains("n lacks memory 1Gi");
  }

  @Test
  void podsAlreadyOnTheNodeTakeTheirShare() {
    NodeInfo busy =
        NodeInfo.of(
            nodeBuilder("busy", "4", "8Gi", 110).build(),
            List.of(
                new PodBuilder()
                    .withNewMetadata()
                    .withName("db")
                    .endMetadata()
                    .withNewSpec()
                    .withNodeName("busy")
                    .addToContainers(container("db", "3", "6Gi"))
                    .endSpec()
                    .withNewStatus()
                    .withPhase("Running")
                    .endStatus()
                    .build()));
    InstanceDemand demand = instance(0, pod("writer", "500m", "2Gi"), pod("reader", "500m", "1Gi"));
    NodeChoice.NoFit result = noFit(placeOne(demand, busy));
    assertThat(result.message()).contains("busy lacks memory 1Gi");
  }

  @Test
  void podSlotsAreCapacityToo() {
    NodeInfo full =
        new NodeInfo("full", Map.of(), List.of(), true, true, 8000, 16 * GI, 10, 0, 0, 9);
    NodeInfo roomy =
        new NodeInfo("roomy", Map.of(), List.of(), true, true, 8000, 8 * GI, 10, 0, 0, 8);
    InstanceDemand demand = instance(0, pod("a", null, null), pod("b", null, null));
    assertThat(nodeOf(placeOne(demand, full, roomy))).isEqualTo("roomy");
    assertThat(noFit(placeOne(demand, full)).message())
        .contains("needs 2 pods", "full lacks 1 pod slot");
  }

  @Test
  void aResourceTheInstanceDoesNotRequestIsNotChecked() {
    // The scheduler only compares what a pod requests: an overcommitted node still takes cpu-only
    // pods.
    NodeInfo overcommitted =
        new NodeInfo("n", Map.of(), List.of(), true, true, 4000, 4 * GI, 110, 1000, 5 * GI, 3);
    assertThat(nodeOf(placeOne(instance(0, pod("a", "1", null)), overcommitted))).isEqualTo("n");
    assertThat(placeOne(instance(0, pod("a", "1", "1")), overcommitted))
        .isInstanceOf(NodeChoice.NoFit.class);
  }

  @Test
  void everyShortfallOfANodeIsNamedBiggestFirst() {
    NodeInfo tiny = new NodeInfo("tiny", Map.of(), List.of(), true, true, 1000, GI, 2, 0, 0, 1);
    InstanceDemand demand = instance(3, pod("a", "1500m", "2Gi"), pod("b", "500m", "2Gi"));
    // memory misses 3 of 4Gi, cpu 1 of 2, pod slots 1 of 2 (tie with cpu: alphabetical).
    assertThat(noFit(placeOne(demand, tiny)).message())
        .isEqualTo(
            "no node can hold instance 3 (needs 2 pods, cpu 2, memory 4Gi): tiny lacks memory 3Gi, 1 pod slot and cpu 1");
  }

  // ---- node state

  @Test
  void notReadyAndCordonedNodesAreNeverUsed() {
    NodeInfo notReady =
        new NodeInfo("a-not-ready", Map.of(), List.of(), true, false, 64000, 64 * GI, 110, 0, 0, 0);
    NodeInfo cordoned =
        new NodeInfo("b-cordoned", Map.of(), List.of(), false, true, 64000, 64 * GI, 110, 0, 0, 0);
    NodeInfo ok = node("c-ok", "2", "2Gi", 110);
    InstanceDemand demand = instance(0, pod("a", "1", "1Gi"));
    assertThat(nodeOf(placeOne(demand, notReady, cordoned, ok))).isEqualTo("c-ok");
    assertThat(noFit(placeOne(demand, notReady, cordoned)).message())
        .contains("a-not-ready is not Ready", "b-cordoned is cordoned (unschedulable)");
  }

  @Test
  void avoidedNodesAreNeverUsedEvenWhenNothingElseFits() {
    List<InstanceDemand> demand = List.of(instance(0, pod("a", "1", "1Gi")));
    List<NodeInfo> nodes = List.of(node("best", "64", "64Gi", 110), node("other", "2", "2Gi", 110));
    assertThat(nodeOf(placer.place(demand, nodes, Map.of(), Set.of("best")).get(0)))
        .isEqualTo("other");
    NodeChoice.NoFit none =
        noFit(placer.place(demand, nodes, Map.of(), Set.of("best", "other")).get(0));
    assertThat(none.reason()).isEqualTo("NoNodeFits");
    assertThat(none.message()).contains("best is avoided for now", "other is avoided for now");
  }

  // ---- choice

  @Test
  void instancesSpreadAndEarlierPlacementsInTheCallCount() {
    // Each node holds two instances: three go 2 + 1, alternating; a fifth finds no room.
    NodeInfo a = node("a", "2", "8Gi", 110);
    NodeInfo b = node("b", "2", "8Gi", 110);
    List<NodeChoice> three =
        place(instances(3, pod("w", "500m", "1Gi"), pod("r", "500m", "1Gi")), a, b);
    assertThat(three).extracting(InstancePlacerTest::nodeOf).containsExactly("a", "b", "a");
    List<NodeChoice> five =
        place(instances(5, pod("w", "500m", "1Gi"), pod("r", "500m", "1Gi")), a, b);
    assertThat(five.subList(0, 4))
        .extracting(InstancePlacerTest::nodeOf)
        .containsExactly("a", "b", "a", "b");
    assertThat(noFit(five.get(4)).message()).contains("a lacks cpu 1", "b lacks cpu 1");
  }

  @Test
  void instancesAlreadyOnANodeCountForSpreading() {
    NodeInfo a = node("a", "8", "8Gi", 110);
    NodeInfo b = node("b", "8", "8Gi", 110);
    List<NodeChoice> result =
        placer.place(instances(2, pod("w", "1", "1Gi")), List.of(a, b), Map.of("a", 1), Set.of());
    assertThat(result).extracting(InstancePlacerTest::nodeOf).containsExactly("b", "a");
  }

  @Test
  void spreadingComesBeforeFreeMemory() {
    NodeInfo small = node("small", "8", "4Gi", 110);
    NodeInfo large = node("large", "8", "64Gi", 110);
    List<NodeChoice> result =
        placer.place(
            instances(1, pod("w", "1", "1Gi")),
            List.of(large, small),
            Map.of("large", 1),
            Set.of());
    assertThat(nodeOf(result.get(0))).isEqualTo("small");
  }

  @Test
  void tiesGoToTheMostFreeMemoryAfterPlacingThenToTheName() {
    InstanceDemand demand = instance(0, pod("w", "1", "1Gi"));
    NodeInfo roomier = NodeInfo.of(nodeBuilder("z-roomier", "8", "12Gi", 110).build(), List.of());
    NodeInfo tighter = NodeInfo.of(nodeBuilder("a-tighter", "64", "8Gi", 110).build(), List.of());
    assertThat(nodeOf(placeOne(demand, tighter, roomier))).isEqualTo("z-roomier");
    NodeInfo twinB = node("twin-b", "8", "8Gi", 110);
    NodeInfo twinA = node("twin-a", "8", "8Gi", 110);
    assertThat(nodeOf(placeOne(demand, twinB, twinA)))
        .as("input order does not matter")
        .isEqualTo("twin-a");
  }

  @Test
  void instancesArePlacedAndReturnedInIndexOrder() {
    // Only one instance fits: the lowest index gets it, whatever order the demands came in.
    NodeInfo n = node("n", "1", "8Gi", 110);
    List<InstanceDemand> demands =
        List.of(
            instance(2, pod("w", "1", null)),
            instance(0, pod("w", "1", null)),
            instance(1, pod("w", "1", null)));
    List<NodeChoice> result = place(demands, n);
    assertThat(result).extracting(NodeChoice::index).containsExactly(0, 1, 2);
    assertThat(result.get(0)).isEqualTo(new NodeChoice.Placed(0, "n"));
    assertThat(result.get(1)).isInstanceOf(NodeChoice.NoFit.class);
    assertThat(noFit(result.get(1)).message()).startsWith("no node can hold instance 1 ");
  }

  // ---- messages

  @Test
  void noFitNamesTheClosestNodesFirstAndIsBounded() {
    PodSpec writer =
        member("writer", "1", "2Gi")
            .addToNodeSelector("disk", "ssd")
            .addToTolerations(
                new TolerationBuilder().withKey("dedicated").withOperator("Exists").build())
            .build();
    PodSpec reader = pod("reader", "500m", "1Gi");
    Map<String, String> ssd = Map.of("disk", "ssd");
    List<NodeInfo> nodes =
        List.of(
            new NodeInfo("node-a", ssd, List.of(), true, true, 4000, GI, 110, 0, 0, 0),
            new NodeInfo("node-b", ssd, List.of(), true, true, 1000, 8 * GI, 110, 0, 0, 0),
            new NodeInfo("node-c", ssd, List.of(), true, false, 8000, 8 * GI, 110, 0, 0, 0),
            new NodeInfo(
                "node-d",
                ssd,
                List.of(
                    new TaintBuilder()
                        .withKey("dedicated")
                        .withValue("db")
                        .withEffect("NoSchedule")
                        .build()),
                true,
                true,
                8000,
                8 * GI,
                110,
                0,
                0,
                0),
            new NodeInfo(
                "node-e", Map.of("disk", "hdd"), List.of(), true, true, 8000, 8 * GI, 110, 0, 0, 0),
            new NodeInfo("node-f", ssd, List.of(), false, true, 8000, 8 * GI, 110, 0, 0, 0));
    NodeChoice.NoFit result =
        noFit(placer.place(List.of(instance(1, writer, reader)), nodes, Map.of(), Set.of()).get(0));
    assertThat(result.reason()).isEqualTo("NoNodeFits");
    assertThat(result.message())
        .isEqualTo(
            "no node can hold instance 1 (needs 2 pods, cpu 1500m, memory 3Gi): "
                + "node-b lacks cpu 500m; "
                + "node-a lacks memory 2Gi; "
                + "node-d has taint dedicated=db:NoSchedule not tolerated by member reader; "
                + "node-e does not match nodeSelector disk=ssd of member writer (it has disk=hdd); "
                + "node-f is cordoned (unschedulable); "
                + "and 1 more node");
  }

  @Test
  void aTaintOrSelectorThatStopsSeveralMembersNamesThemAll() {
    PodSpec writer = member("writer", null, null).addToNodeSelector("disk", "ssd").build();
    PodSpec reader = member("reader", null, null).addToNodeSelector("disk", "ssd").build();
    assertThat(noFit(placeOne(instance(0, writer, reader), labelled("n", Map.of()))).message())
        .endsWith(
            "n does not match nodeSelector disk=ssd of members writer and reader (it has no label disk)");
    NodeInfo gpu = tainted("g", new TaintBuilder().withKey("gpu").withEffect("NoExecute").build());
    assertThat(
            noFit(placeOne(instance(0, pod("writer", null, null), pod("reader", null, null)), gpu))
                .message())
        .endsWith("g has taint gpu:NoExecute not tolerated by members writer and reader");
  }

  @Test
  void withoutNodesTheReasonIsNoNodes() {
    NodeChoice.NoFit result =
        noFit(
            placer
                .place(List.of(instance(0, pod("w", "1", "1Gi"))), List.of(), Map.of(), Set.of())
                .get(0));
    assertThat(result.reason()).isEqualTo("NoNodes");
    assertThat(result.message())
        .isEqualTo(
            "no node can hold instance 0 (needs 1 pod, cpu 1, memory 1Gi): the cluster has no nodes");
  }

  @Test
  void nothingToPlaceGivesNothing() {
    assertThat(place(List.of(), node("n", "1", "1Gi", 110))).isEmpty();
  }

  /** A reader whose only container sets limits, no requests. */
  private static PodSpecBuilder readerWithLimitOnly(String cpu, String memory) {
    return new PodSpecBuilder()
        .addNewContainer()
        .withName("reader")
        .withNewResources()
        .addToLimits("cpu", new Quantity(cpu))
        .addToLimits("memory", new Quantity(memory))
        .endResources()
        .endContainer();
  }
}
