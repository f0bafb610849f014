package dev.sharedipc.operator.samenode;

import static dev.sharedipc.operator.Fixtures.group;
import static dev.sharedipc.operator.Fixtures.member;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.api.v1alpha1.InstanceStatus;
import dev.sharedipc.api.v1alpha1.Placement;
import dev.sharedipc.api.v1alpha1.SchedulingSpec;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcGroupStatus;
import dev.sharedipc.operator.placement.InstancePlacer;
import dev.sharedipc.operator.render.GroupRenderer;
import dev.sharedipc.operator.sync.InstancePlacement;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class SameNodePlannerTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private final GroupRenderer renderer = new GroupRenderer();
  private final AvoidList avoid = new AvoidList(Duration.ofMinutes(5));
  private final SameNodePlanner planner =
      new SameNodePlanner(renderer, new InstancePlacer(), avoid);
  private final SharedIpcGroup group = sameNode();

  private static SharedIpcGroup sameNode() {
    SharedIpcGroup g =
        group("g", 1, "64Mi", member("w", "64Mi", "128Mi"), member("r", "64Mi", "128Mi"));
    g.getSpec().setPlacement(Placement.SameNode);
    g.getSpec().setScheduling(new SchedulingSpec());
    g.getSpec().getScheduling().setTimeout("60s");
    return g;
  }

  private static Node node(String name, boolean ready, boolean cordoned) {
    return new NodeBuilder()
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .withNewSpec()
        .withUnschedulable(cordoned)
        .endSpec()
        .withNewStatus()
        .addToAllocatable("cpu", new Quantity("4"))
        .addToAllocatable("memory", new Quantity("8Gi"))
        .addToAllocatable("pods", new Quantity("110"))
        .addNewCondition()
        .withType("Ready")
        .withStatus(ready ? "True" : "False")
        .endCondition()
        .endStatus()
        .build();
  }

  /**
   * The instance's pods as the operator would have made them on node, created at created, in phase.
   */
  private List<Pod> podsOn(String node, Instant created, String phase) {
    List<Pod> pods = new ArrayList<>();
    for (Pod p : renderer.renderSameNode(group, Map.of(0, node)).pods()) {
      pods.add(
          new PodBuilder(p)
              .editMetadata()
              .withCreationTimestamp(created.toString())
              .withUid(p.getMetadata().getName())
              .endMetadata()
              .editSpec()
              .withNodeName(node)
              .endSpec()
              .withNewStatus()
              .withPhase(phase)
              .endStatus()
              .build());
    }
    return pods;
  }

  @Test
  void aWholeRunningInstanceKeepsItsNode() {
    List<Pod> pods = podsOn("a", T0, "Running");
    SameNodePlan plan =
        planner.plan(
            group,
            pods,
            List.of(node("a", true, false), node("b", true, false)),
            pods,
            T0.plusSeconds(600));
    assertThat(plan.nodeByInstance()).containsExactly(Map.entry(0, "a"));
    assertThat(plan.evictions()).isEmpty();
    assertThat(plan.recheckIn()).isEmpty();
    assertThat(plan.placements().get(0).firstWholeAt())
        .as("whole now, and recorded so")
        .isEqualTo(T0.plusSeconds(600));
  }

  @Test
  void aPendingInstanceWaitsUntilItsTimeoutThenMovesWholeAndAvoidsTheNode() {
    List<Pod> pods = podsOn("a", T0, "Pending");
    List<Node> nodes = List.of(node("a", true, false), node("b", true, false));
    SameNodePlan early = planner.plan(group, pods, nodes, pods, T0.plusSeconds(20));
    assertThat(early.evictions()).isEmpty();
    assertThat(early.recheckIn()).contains(Duration.ofSeconds(41));

    assertThat(planner.plan(group, pods, nodes, pods, T0.plusSeconds(60)).evictions())
        .as("a timestamp truncated to the second never makes the timeout early")
        .isEmpty();
    SameNodePlan late = planner.plan(group, pods, nodes, pods, T0.plusSeconds(61));
    assertThat(late.evictions())
        .hasSize(2)
        .allSatisfy(e -> assertThat(e.reason()).isEqualTo("PlacementTimedOut"));
    assertThat(late.nodeByInstance()).containsExactly(Map.entry(0, "b"));
    assertThat(avoid.nodes(group.getMetadata().getUid(), T0.plusSeconds(62))).containsExactly("a");
    assertThat(avoid.nodes(group.getMetadata().getUid(), T0.plusSeconds(61 + 301))).isEmpty();
  }

  @Test
  void aDeletedNodeMovesItsInstanceEvenWhenItRan() {
    List<Pod> pods = podsOn("gone", T0, "Running");
    SameNodePlan plan =
        planner.plan(group, pods, List.of(node("b", true, false)), pods, T0.plusSeconds(5));
    assertThat(plan.evictions())
        .hasSize(2)
        .allSatisfy(e -> assertThat(e.reason()).isEqualTo("NodeLost"));
    assertThat(plan.nodeByInstance()).containsExactly(Map.entry(0, "b"));
  }

  @Test
  void aCordonedNodeKeepsAWholeInstanceButNotABrokenOne() {
    List<Node> nodes = List.of(node("a", true, true), node("b", true, false));
    List<Pod> running = podsOn("a", T0, "Running");
    assertThat(planner.plan(group, running, nodes, running, T0.plusSeconds(5)).evictions())
        .isEmpty();
    List<Pod> broken = running.subList(0, 1);
    SameNodePlan plan = planner.plan(group, broken, nodes, broken, T0.plusSeconds(5));
    assertThat(plan.evictions())
        .singleElement()
        .satisfies(e -> assertThat(e.reason()).isEqualTo("NodeUnavailable"));
    assertThat(plan.nodeByInstance()).containsExactly(Map.entry(0, "b"));
  }

  @Test
  void noRoomMeansWaitingWithTheReasonAndALaterLook() {
    SameNodePlan plan =
        planner.plan(group, List.of(), List.of(node("a", false, false)), List.of(), T0);
    assertThat(plan.nodeByInstance()).isEmpty();
    assertThat(plan.waiting()).containsKey(0);
    assertThat(plan.waitingReason()).isEqualTo("NoNodeFits");
    assertThat(plan.recheckIn()).contains(SameNodePlanner.WAITING_RECHECK);
  }

  @Test
  void sharedMemoryOfInstancesAlreadyOnANodeCountsAgainstIt() {
    SharedIpcGroup big = group("big", 1, "6Gi", member("w", "64Mi", null));
    big.getSpec().setPlacement(Placement.SameNode);
    List<Pod> elsewhere = new ArrayList<>();
    for (Pod p : renderer.renderSameNode(big, Map.of(0, "a")).pods()) {
      elsewhere.add(new PodBuilder(p).editSpec().withNodeName("a").endSpec().build());
    }
    // Node a has 8Gi: another group's 6Gi of node tmpfs still leaves room for us; 6Gi + 2Gi does
    // not.
    SameNodePlan plan =
        planner.plan(group, List.of(), List.of(node("a", true, false)), elsewhere, T0);
    assertThat(plan.nodeByInstance()).containsExactly(Map.entry(0, "a"));
    List<Pod> crowded = new ArrayList<>(elsewhere);
    SharedIpcGroup big2 = group("big2", 1, "2Gi", member("w", "64Mi", null));
    big2.getSpec().setPlacement(Placement.SameNode);
    for (Pod p : renderer.renderSameNode(big2, Map.of(0, "a")).pods()) {
      crowded.add(new PodBuilder(p).editSpec().withNodeName("a").endSpec().build());
    }
    SameNodePlan full =
        planner.plan(group, List.of(), List.of(node("a", true, false)), crowded, T0);
    assertThat(full.waiting()).containsKey(0);
    assertThat(full.waiting().get(0)).contains("memory");
  }

  /**
   * The instance's pods pinned to node but refused by the scheduler there (Pending,
   * PodScheduled=False, Unschedulable).
   */
  private List<Pod> refusedOn(String node, Instant created) {
    List<Pod> pods = new ArrayList<>();
    for (Pod p : renderer.renderSameNode(group, Map.of(0, node)).pods()) {
      pods.add(
          new PodBuilder(p)
              .editMetadata()
              .withCreationTimestamp(created.toString())
              .withUid(p.getMetadata().getName() + created)
              .endMetadata()
              .withNewStatus()
              .withPhase("Pending")
              .addNewCondition()
              .withType("PodScheduled")
              .withStatus("False")
              .withReason("Unschedulable")
              .withMessage(
                  "0/2 nodes are available: 1 node(s) didn't match pod topology spread constraints.")
              .endCondition()
              .endStatus()
              .build());
    }
    return pods;
  }

  @Test
  void
      anInstanceTheSchedulerKeepsRefusingIsPlacedAgainAtMostThreeTimesThenWaitsWithTheSchedulersReason() {
    List<Node> nodes = List.of(node("a", true, false), node("b", true, false));
    Instant t = T0;
    for (int round = 1; round <= SchedulerRefusals.MAX_REFUSED_PLACEMENTS; round++) {
      List<Pod> pods = refusedOn(round % 2 == 1 ? "a" : "b", t);
      SameNodePlan plan = planner.plan(group, pods, nodes, pods, t.plusSeconds(61));
      assertThat(plan.evictions())
          .as("round %d", round)
          .hasSize(2)
          .allSatisfy(
              e ->
                  assertThat(e.message())
                      .contains("the scheduler refused member", "topology spread"));
      t = t.plus(Duration.ofMinutes(10));
    }
    List<Pod> pods = refusedOn("a", t);
    SameNodePlan stuck = planner.plan(group, pods, nodes, pods, t.plusSeconds(61));
    assertThat(stuck.evictions()).as("no fourth eviction: the loop ends").isEmpty();
    assertThat(stuck.nodeByInstance()).containsExactly(Map.entry(0, "a"));
    assertThat(stuck.waitingReason()).isEqualTo("SchedulerRefused");
    assertThat(stuck.waiting().get(0))
        .contains("3 placements in a row", "topology spread", "until the group's spec changes");
    assertThat(planner.plan(group, pods, nodes, pods, t.plus(Duration.ofHours(5))).evictions())
        .as("for good")
        .isEmpty();

    group.getMetadata().setGeneration(group.getMetadata().getGeneration() + 1);
    assertThat(planner.plan(group, pods, nodes, pods, t.plusSeconds(62)).evictions())
        .as("a spec change tries again")
        .hasSize(2);
  }

  @Test
  void anInstanceThatSimplyStartsSlowlyIsNotCountedAsRefused() {
    List<Node> nodes = List.of(node("a", true, false), node("b", true, false));
    Instant t = T0;
    for (int round = 1; round <= SchedulerRefusals.MAX_REFUSED_PLACEMENTS + 1; round++) {
      List<Pod> pods = podsOn("a", t, "Pending");
      assertThat(planner.plan(group, pods, nodes, pods, t.plusSeconds(61)).evictions())
          .as("round %d", round)
          .hasSize(2);
      t = t.plus(Duration.ofMinutes(10));
    }
  }

  // ---- a member lost or updated: the table of verdicts ----

  private static final Instant HOURS_AGO = T0.minus(Duration.ofHours(5));

  /**
   * One case: the instance's recorded placement (or none), which members still stand, the state of
   * its node, and what the planner must decide.
   */
  record Case(
      String name,
      InstancePlacement recorded,
      List<String> standing,
      String phase,
      NodeState node,
      String evictionReason,
      String placedOn) {
    @Override
    public String toString() {
      return name;
    }
  }

  enum NodeState {
    READY,
    CORDONED,
    NOT_READY,
    GONE
  }

  static Stream<Case> memberCases() {
    InstancePlacement wholeBefore =
        new InstancePlacement("a", HOURS_AGO, HOURS_AGO.plusSeconds(3), null);
    InstancePlacement neverWhole = new InstancePlacement("a", T0.minusSeconds(90), null, null);
    InstancePlacement placedJustNow = new InstancePlacement("a", T0.minusSeconds(10), null, null);
    return Stream.of(
        new Case(
            "one member missing on a whole-before instance: re-created on the same node, no eviction",
            wholeBefore,
            List.of("w"),
            "Running",
            NodeState.READY,
            null,
            "a"),
        new Case(
            "every member missing on a whole-before instance: still its node, nothing placed elsewhere",
            wholeBefore,
            List.of(),
            "Running",
            NodeState.READY,
            null,
            "a"),
        new Case(
            "a member not yet running again on a whole-before instance: waits on its node, no timeout",
            wholeBefore,
            List.of("w", "r"),
            "Pending",
            NodeState.READY,
            null,
            "a"),
        new Case(
            "one member missing on a whole-before instance whose node is cordoned: moves whole",
            wholeBefore,
            List.of("w"),
            "Running",
            NodeState.CORDONED,
            "NodeUnavailable",
            "b"),
        new Case(
            "one member missing on a whole-before instance whose node is not Ready: moves whole",
            wholeBefore,
            List.of("w"),
            "Running",
            NodeState.NOT_READY,
            "NodeUnavailable",
            "b"),
        new Case(
            "a whole-before instance whose node is gone: moves whole",
            wholeBefore,
            List.of("w", "r"),
            "Running",
            NodeState.GONE,
            "NodeLost",
            "b"),
        new Case(
            "never whole, placed 90 s ago with a 60 s timeout: moves whole",
            neverWhole,
            List.of("w", "r"),
            "Pending",
            NodeState.READY,
            "PlacementTimedOut",
            "b"),
        new Case(
            "never whole, placed 10 s ago: waits on its node",
            placedJustNow,
            List.of("w", "r"),
            "Pending",
            NodeState.READY,
            null,
            "a"),
        new Case(
            "a record of another node says nothing: pods of hours ago never whole here time out",
            new InstancePlacement("elsewhere", T0, T0, null),
            List.of("w", "r"),
            "Pending",
            NodeState.READY,
            "PlacementTimedOut",
            "b"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("memberCases")
  void aMemberLostOrUpdatedIsReplacedInPlaceUnlessTheInstanceMustMove(Case c) {
    SharedIpcGroup recorded = withRecord(c.recorded());
    List<Pod> pods =
        podsOn("a", HOURS_AGO, c.phase()).stream()
            .filter(
                p ->
                    c.standing()
                        .contains(p.getMetadata().getLabels().get(dev.sharedipc.api.Labels.MEMBER)))
            .toList();
    List<Node> nodes = new ArrayList<>(List.of(node("b", true, false)));
    switch (c.node()) {
      case READY -> nodes.add(node("a", true, false));
      case CORDONED -> nodes.add(node("a", true, true));
      case NOT_READY -> nodes.add(node("a", false, false));
      case GONE -> {}
    }
    // A planner made afresh, as after an operator restart: only the status remembers.
    SameNodePlanner fresh =
        new SameNodePlanner(renderer, new InstancePlacer(), new AvoidList(Duration.ofMinutes(5)));
    SameNodePlan plan = fresh.plan(recorded, pods, nodes, pods, T0);

    if (c.evictionReason() == null) {
      assertThat(plan.evictions()).as("evictions").isEmpty();
    } else {
      assertThat(plan.evictions())
          .as("evictions")
          .hasSize(pods.size())
          .allSatisfy(e -> assertThat(e.reason()).isEqualTo(c.evictionReason()));
    }
    assertThat(plan.nodeByInstance()).containsExactly(Map.entry(0, c.placedOn()));
    InstancePlacement now = plan.placements().get(0);
    assertThat(now.node()).isEqualTo(c.placedOn());
    if (c.evictionReason() != null) {
      assertThat(now)
          .as("placed anew")
          .isEqualTo(new InstancePlacement(c.placedOn(), T0, null, null));
    } else if (c.recorded().wasWhole()) {
      assertThat(now.placedAt()).isEqualTo(c.recorded().placedAt());
      assertThat(now.firstWholeAt()).as("first whole, kept").isEqualTo(c.recorded().firstWholeAt());
      assertThat(now.brokenSince()).as("broken since").isEqualTo(T0);
      assertThat(plan.recheckIn()).as("no deadline for an instance that was whole").isEmpty();
    } else {
      assertThat(plan.recheckIn()).contains(Duration.ofSeconds(50));
    }
  }

  @Test
  void whatOnlyTheSchedulerCanJudgeIsSaidUntilTheInstanceIsWhole() {
    group
        .getSpec()
        .getMembers()
        .get(0)
        .getTemplate()
        .getSpec()
        .setAffinity(
            new io.fabric8.kubernetes.api.model.AffinityBuilder()
                .withNewPodAntiAffinity()
                .addNewRequiredDuringSchedulingIgnoredDuringExecution()
                .withTopologyKey("topology.kubernetes.io/zone")
                .withNewLabelSelector()
                .addToMatchLabels("app", "solo")
                .endLabelSelector()
                .endRequiredDuringSchedulingIgnoredDuringExecution()
                .endPodAntiAffinity()
                .build());
    List<Node> nodes = List.of(node("a", true, false));
    SameNodePlan placed = planner.plan(group, List.of(), nodes, List.of(), T0);
    assertThat(placed.nodeByInstance()).containsExactly(Map.entry(0, "a"));
    assertThat(placed.waitingReason()).isEqualTo("LeftToScheduler");
    assertThat(placed.waiting().get(0))
        .contains(
            "pinned to node a",
            "member w has required pod anti-affinity over topology key "
                + "topology.kubernetes.io/zone");

    List<Pod> pending = podsOn("a", T0, "Pending");
    assertThat(planner.plan(group, pending, nodes, pending, T0.plusSeconds(5)).waiting())
        .containsKey(0);
    List<Pod> running = podsOn("a", T0, "Running");
    assertThat(planner.plan(group, running, nodes, running, T0.plusSeconds(5)).waiting()).isEmpty();
  }

  @Test
  void brokenSinceIsKeptWhileBrokenAndClearedWhenWholeAgain() {
    InstancePlacement broken =
        new InstancePlacement("a", HOURS_AGO, HOURS_AGO.plusSeconds(3), T0.minusSeconds(30));
    List<Node> nodes = List.of(node("a", true, false));
    List<Pod> one = podsOn("a", T0, "Running").subList(0, 1);
    assertThat(
            planner.plan(withRecord(broken), one, nodes, one, T0).placements().get(0).brokenSince())
        .isEqualTo(T0.minusSeconds(30));
    List<Pod> both = podsOn("a", T0, "Running");
    InstancePlacement whole =
        planner.plan(withRecord(broken), both, nodes, both, T0).placements().get(0);
    assertThat(whole)
        .isEqualTo(new InstancePlacement("a", HOURS_AGO, HOURS_AGO.plusSeconds(3), null));
  }

  @Test
  void aNewlyPlacedInstanceIsRecordedAsPlacedNow() {
    SameNodePlan plan =
        planner.plan(group, List.of(), List.of(node("a", true, false)), List.of(), T0);
    assertThat(plan.placements())
        .containsExactly(Map.entry(0, new InstancePlacement("a", T0, null, null)));
  }

  /** The group with its status holding instance 0's placement as a previous pass wrote it. */
  private SharedIpcGroup withRecord(InstancePlacement placement) {
    SharedIpcGroup copy = sameNode();
    SharedIpcGroupStatus status = new SharedIpcGroupStatus();
    InstanceStatus instance = new InstanceStatus();
    instance.setIndex(0);
    placement.writeTo(instance);
    status.setInstances(new ArrayList<>(List.of(instance)));
    copy.setStatus(status);
    return copy;
  }
}
