package dev.sharedipc.operator.samenode;

import static dev.sharedipc.operator.Fixtures.group;
import static dev.sharedipc.operator.Fixtures.member;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.api.v1alpha1.Placement;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedMemoryMedium;
import dev.sharedipc.operator.render.DesiredState;
import dev.sharedipc.operator.render.GroupRenderer;
import dev.sharedipc.operator.render.SharedMemoryMedia;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class SameNodeRolloutTest {
  private final GroupRenderer renderer = new GroupRenderer();
  private final SameNodeRollout rollout = new SameNodeRollout();

  private static SharedIpcGroup pair(int replicas) {
    SharedIpcGroup g =
        group("g", replicas, "64Mi", member("w", "64Mi", "128Mi"), member("r", "64Mi", "128Mi"));
    g.getSpec().setPlacement(Placement.SameNode);
    return g;
  }

  private static Map<Integer, String> nodes(int replicas) {
    Map<Integer, String> nodes = new TreeMap<>();
    for (int i = 0; i < replicas; i++) {
      nodes.put(i, "n" + i);
    }
    return nodes;
  }

  /** The pods of the group as rendered, Running and Ready (or not) on their nodes. */
  private List<Pod> running(SharedIpcGroup group, boolean ready) {
    List<Pod> pods = new ArrayList<>();
    for (Pod p : renderer.renderSameNode(group, nodes(GroupRenderer.replicas(group))).pods()) {
      pods.add(
          new PodBuilder(p)
              .editMetadata()
              .withUid("uid-" + p.getMetadata().getName())
              .endMetadata()
              .withNewStatus()
              .withPhase("Running")
              .addNewCondition()
              .withType("Ready")
              .withStatus(ready ? "True" : "False")
              .endCondition()
              .endStatus()
              .build());
    }
    return pods;
  }

  /** The pod {@code name} of {@code live}, its Ready condition False. */
  private static void notReady(List<Pod> live, String name) {
    live.replaceAll(
        p ->
            p.getMetadata().getName().equals(name)
                ? new PodBuilder(p)
                    .editStatus()
                    .editFirstCondition()
                    .withStatus("False")
                    .endCondition()
                    .endStatus()
                    .build()
                : p);
  }

  private static List<String> names(List<SameNodeRollout.Removal> removals) {
    return removals.stream().map(r -> r.pod().getMetadata().getName()).toList();
  }

  @Test
  void aTemplateChangeOfOneMemberReplacesOnlyThatMemberOfTheFirstInstance() {
    SharedIpcGroup before = pair(3);
    List<Pod> live = running(before, true);
    SharedIpcGroup after = pair(3);
    after
        .getSpec()
        .getMembers()
        .get(1)
        .getTemplate()
        .getSpec()
        .getContainers()
        .get(0)
        .setImage("busybox:1.37");
    DesiredState desired = renderer.renderSameNode(after, nodes(3));

    List<SameNodeRollout.Removal> step = rollout.step(after, desired, live, true);
    assertThat(names(step)).containsExactly("g-0-r");
    assertThat(step.get(0).evict()).as("a working pod goes through the Eviction API").isTrue();
    assertThat(step.get(0).working())
        .as("a rollout step: the next waits until it is seen")
        .isTrue();
    assertThat(step.get(0).message()).contains("member r", "node n0");
  }

  @Test
  void noSecondInstanceGoesWhileOneIsNotReady() {
    SharedIpcGroup after = pair(3);
    after
        .getSpec()
        .getMembers()
        .get(1)
        .getTemplate()
        .getSpec()
        .getContainers()
        .get(0)
        .setImage("busybox:1.37");
    DesiredState desired = renderer.renderSameNode(after, nodes(3));
    List<Pod> live = new ArrayList<>(running(pair(3), true));
    // Instance 0's reader was replaced: the new one is there but not Ready yet.
    live.removeIf(p -> p.getMetadata().getName().equals("g-0-r"));
    Pod fresh = desired.pod("g-0-r").orElseThrow();
    live.add(
        new PodBuilder(fresh)
            .withNewStatus()
            .withPhase("Running")
            .addNewCondition()
            .withType("Ready")
            .withStatus("False")
            .endCondition()
            .endStatus()
            .build());
    assertThat(rollout.step(after, desired, live, true))
        .as("instance 0 not Ready: nothing else goes")
        .isEmpty();
    // And with instance 0's reader missing altogether (terminating, being re-created): nothing
    // either.
    live.removeIf(p -> p.getMetadata().getName().equals("g-0-r"));
    assertThat(rollout.step(after, desired, live, true)).isEmpty();
  }

  @Test
  void outdatedPodsThatDoNotWorkGoAtOnceWithoutEviction() {
    SharedIpcGroup after = pair(2);
    after
        .getSpec()
        .getMembers()
        .get(0)
        .getTemplate()
        .getSpec()
        .getContainers()
        .get(0)
        .setImage("busybox:1.37");
    List<SameNodeRollout.Removal> step =
        rollout.step(
            after, renderer.renderSameNode(after, nodes(2)), running(pair(2), false), true);
    assertThat(names(step)).containsExactlyInAnyOrder("g-0-w", "g-1-w");
    assertThat(step).noneMatch(SameNodeRollout.Removal::evict);
    assertThat(step).noneMatch(SameNodeRollout.Removal::working);
  }

  @Test
  void aMemberAddedChangesNoPodAndAMemberRemovedRemovesOnlyItsPods() {
    SharedIpcGroup before = pair(2);
    List<Pod> live = running(before, true);
    SharedIpcGroup added = pair(2);
    added.getSpec().getMembers().add(member("x", "64Mi", "128Mi"));
    assertThat(rollout.step(added, renderer.renderSameNode(added, nodes(2)), live, true))
        .as("the new member's pods are created; nothing else is touched")
        .isEmpty();

    SharedIpcGroup removed = pair(2);
    removed.getSpec().getMembers().remove(1);
    List<SameNodeRollout.Removal> step =
        rollout.step(removed, renderer.renderSameNode(removed, nodes(2)), live, true);
    assertThat(names(step)).containsExactlyInAnyOrder("g-0-r", "g-1-r");
    assertThat(step).allSatisfy(r -> assertThat(r.reason()).isEqualTo("MemberRemoved"));
  }

  @Test
  void instancesBeyondReplicasGo() {
    List<Pod> live = running(pair(3), true);
    SharedIpcGroup scaled = pair(2);
    List<SameNodeRollout.Removal> step =
        rollout.step(scaled, renderer.renderSameNode(scaled, nodes(2)), live, true);
    assertThat(names(step)).containsExactlyInAnyOrder("g-2-w", "g-2-r");
    assertThat(step).allSatisfy(r -> assertThat(r.reason()).isEqualTo("ScaledDown"));
  }

  @Test
  void anExplicitMediumChangeReplacesAnInstanceThatDoesNotWorkWholeByDeleteAndTheWorkingOnesWait() {
    SharedIpcGroup after = pair(2);
    after.getSpec().getSharedMemory().setMedium(SharedMemoryMedium.CSI);
    DesiredState desired = renderer.renderSameNode(after, nodes(2));
    List<Pod> live =
        new ArrayList<>(running(pair(2), true)); // hostPath: the renderer here has no driver
    // a not-Ready member would otherwise be replaced alone, beside a working member on the old
    // medium
    notReady(live, "g-1-w");

    List<SameNodeRollout.Removal> step = rollout.step(after, desired, live, true);

    assertThat(names(step))
        .as("instance 1 whole, its Ready member too; instance 0 works and waits")
        .containsExactlyInAnyOrder("g-1-w", "g-1-r");
    assertThat(step)
        .allSatisfy(
            r -> {
              assertThat(r.reason()).isEqualTo("MediumChanged");
              assertThat(r.evict())
                  .as("a plain delete: a budget must not hold half an instance")
                  .isFalse();
              assertThat(r.working()).as("instance 1 did not work").isFalse();
              assertThat(r.message()).contains("instance 1 whole", "medium is CSI", "use HostPath");
            });
  }

  @Test
  void aMediumChangeOfWorkingInstancesStartsWithTheFirstInstanceOnly() {
    SharedIpcGroup after = pair(2);
    after.getSpec().getSharedMemory().setMedium(SharedMemoryMedium.CSI);

    List<SameNodeRollout.Removal> step =
        rollout.step(after, renderer.renderSameNode(after, nodes(2)), running(pair(2), true), true);

    assertThat(names(step)).containsExactlyInAnyOrder("g-0-w", "g-0-r");
    assertThat(step)
        .as("a working instance replaced whole is a rollout step")
        .allMatch(SameNodeRollout.Removal::working);
  }

  @Test
  void whileTheLastStepIsUnseenOnlyWhatTheSpecRemovedGoes() {
    SharedIpcGroup after = pair(2);
    after
        .getSpec()
        .getMembers()
        .get(0)
        .getTemplate()
        .getSpec()
        .getContainers()
        .get(0)
        .setImage("busybox:1.37");
    DesiredState desired = renderer.renderSameNode(after, nodes(2));
    // three instances of the old spec, instance 1's writer not Ready
    List<Pod> live = new ArrayList<>(running(pair(3), true));
    notReady(live, "g-1-w");

    assertThat(names(rollout.step(after, desired, live, true)))
        .as("the view shows the last step")
        .containsExactlyInAnyOrder("g-2-w", "g-2-r", "g-1-w");
    assertThat(names(rollout.step(after, desired, live, false)))
        .as("the view may not show the last step: no replacement, even of a pod not Ready")
        .containsExactlyInAnyOrder("g-2-w", "g-2-r");
  }

  @Test
  void theNextInstanceChangesMediumOnlyOnceTheOthersAreReadyAgain() {
    SharedIpcGroup after = pair(2);
    after.getSpec().getSharedMemory().setMedium(SharedMemoryMedium.CSI);
    DesiredState desired = renderer.renderSameNode(after, nodes(2));
    List<Pod> live = new ArrayList<>(running(pair(2), true));
    live.removeIf(
        p ->
            p.getMetadata()
                .getName()
                .startsWith("g-0-")); // instance 0 replaced, its new pods not there yet
    assertThat(rollout.step(after, desired, live, true))
        .as("instance 0 is down: instance 1 stays")
        .isEmpty();

    live.addAll(
        running(after, true).stream()
            .filter(p -> p.getMetadata().getName().startsWith("g-0-"))
            .toList());
    assertThat(names(rollout.step(after, desired, live, true)))
        .containsExactlyInAnyOrder("g-1-w", "g-1-r");
  }

  @Test
  void noNewMemberIsCreatedBesideAPodOfTheOldMedium() {
    SharedIpcGroup after = pair(2);
    after.getSpec().getSharedMemory().setMedium(SharedMemoryMedium.CSI);
    DesiredState desired = renderer.renderSameNode(after, nodes(2));
    List<Pod> owned = new ArrayList<>(running(pair(2), true));
    owned.removeIf(
        p ->
            p.getMetadata().getName().equals("g-0-w")); // gone; its partner g-0-r still terminating
    owned.removeIf(p -> p.getMetadata().getName().startsWith("g-1-"));
    owned.addAll(
        running(after, true).stream()
            .filter(p -> p.getMetadata().getName().startsWith("g-1-"))
            .toList());

    assertThat(SameNodeRollout.heldForMediumChange(desired.pods(), owned)).containsExactly(0);
  }

  @Test
  void aGroupWithoutAnExplicitMediumKeepsThePodsMediumAndReplacesNothingWhenTheDriverAppears() {
    SharedIpcGroup group = pair(2);
    List<Pod> live = running(group, true); // rendered without the driver: hostPath
    GroupRenderer driverNow = new GroupRenderer(GroupRenderer.DEFAULT_NODE_SHARED_ROOT, () -> true);

    DesiredState desired = driverNow.renderSameNode(group, nodes(2), SharedMemoryMedia.inUse(live));

    assertThat(rollout.step(group, desired, live, true)).isEmpty();
    assertThat(desired.memory().message())
        .contains("kept: the group's pods use it", "set spec.sharedMemory.medium: CSI");
  }
}
