package dev.sharedipc.operator.samenode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.api.Labels;
import dev.sharedipc.api.v1alpha1.Placement;
import dev.sharedipc.api.v1alpha1.SchedulingSpec;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.operator.FakeKubelet;
import dev.sharedipc.operator.Fixtures;
import dev.sharedipc.operator.GroupsInNamespace;
import dev.sharedipc.operator.OperatorFixture;
import dev.sharedipc.operator.RunningOperator;
import dev.sharedipc.operator.render.GroupRenderer;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * SameNode gang placement on the real API server. There is no scheduler or kubelet here, so nodes
 * are Node objects with status, and {@link FakeKubelet} binds each pod to the node the operator
 * pinned it to, as the kube-scheduler would. Each test confines its groups to its own nodes with a
 * nodeSelector, since nodes are cluster-wide.
 */
class SameNodeGroupIT extends OperatorFixture {
  SameNodeGroupIT() {
    super("samenode");
  }

  @Test
  void everyInstanceLandsWholeOnOneNodeAndInstancesSpread() {
    readyNode("a", "4", "8Gi");
    readyNode("b", "4", "8Gi");
    groups.create(group("pair", 2, "256Mi"));
    List<Pod> pods = awaitPods("pair", 4);
    Map<String, Set<String>> nodesByInstance =
        pods.stream()
            .collect(
                Collectors.groupingBy(
                    p -> p.getMetadata().getLabels().get(Labels.INSTANCE),
                    Collectors.mapping(GroupRenderer::pinnedNode, Collectors.toSet())));
    assertThat(nodesByInstance)
        .hasSize(2)
        .allSatisfy((instance, nodes) -> assertThat(nodes).hasSize(1));
    assertThat(nodesByInstance.values().stream().flatMap(Set::stream).collect(Collectors.toSet()))
        .as("two instances, two nodes: they spread")
        .hasSize(2);
    String uid =
        client
            .resources(SharedIpcGroup.class)
            .inNamespace(ns)
            .withName("pair")
            .get()
            .getMetadata()
            .getUid();
    for (Pod pod : pods) {
      assertThat(pod.getMetadata().getLabels()).containsKey(Labels.MEMBER);
      assertThat(pod.getSpec().getVolumes())
          .anySatisfy(
              v -> {
                assertThat(v.getHostPath().getPath())
                    .isEqualTo(
                        "/dev/shm/sharedipc/"
                            + ns
                            + "_pair_"
                            + uid
                            + "_"
                            + pod.getMetadata().getLabels().get(Labels.INSTANCE));
                assertThat(v.getHostPath().getType()).isEqualTo("Directory");
              });
      kubelet.run(pod, GroupRenderer.pinnedNode(pod), true);
    }
    SharedIpcGroup ready = groups.awaitCondition("pair", "Ready", "True", "AllInstancesReady");
    assertThat(GroupsInNamespace.condition(ready, "Placed").getStatus()).isEqualTo("True");
    assertThat(ready.getStatus().getInstances())
        .allSatisfy(i -> assertThat(i.getPods()).hasSize(2));
  }

  @Test
  void anInstanceThatFitsNowhereWaitsWithTheShortfallNamed() {
    readyNode("small", "1", "1Gi");
    SharedIpcGroup big = group("big", 1, "64Mi");
    big.getSpec()
        .getMembers()
        .forEach(
            m ->
                m.getTemplate()
                    .getSpec()
                    .getContainers()
                    .get(0)
                    .getResources()
                    .getRequests()
                    .put("memory", new Quantity("2Gi")));
    groups.create(big);
    SharedIpcGroup waiting = groups.awaitCondition("big", "Placed", "False", "NoNodeFits");
    assertThat(GroupsInNamespace.condition(waiting, "Placed").getMessage())
        .contains("memory")
        .contains(nodeName("small"));
    assertThat(waiting.getStatus().getInstances().get(0).getPhase()).isEqualTo("Pending");
    assertThat(pods("big")).isEmpty();
  }

  @Test
  void aTenantsPodClaimingNodeSharedBytesDoesNotFillTheNodeButAnExtendedResourceCounts() {
    readyNode("gpu", "4", "8Gi");
    readyNode("plain", "4", "8Gi");
    client
        .nodes()
        .withName(nodeName("gpu"))
        .editStatus(
            n -> {
              n.getStatus().getAllocatable().put("example.com/gpu", new Quantity("1"));
              n.getStatus().getCapacity().put("example.com/gpu", new Quantity("1"));
              return n;
            });
    // Any tenant can write the annotation the operator puts on its own pods; on theirs it must
    // count nothing.
    client
        .pods()
        .inNamespace(ns)
        .resource(
            new io.fabric8.kubernetes.api.model.PodBuilder()
                .withNewMetadata()
                .withName("squatter")
                .addToAnnotations(Labels.NODE_SHARED_BYTES_ANNOTATION, Long.toString(1L << 50))
                .endMetadata()
                .withNewSpec()
                .withNodeName(nodeName("gpu"))
                .addNewContainer()
                .withName("c")
                .withImage("busybox")
                .endContainer()
                .endSpec()
                .build())
        .create();
    SharedIpcGroup trainer = group("trainer", 1, "64Mi");
    trainer
        .getSpec()
        .getMembers()
        .get(0)
        .getTemplate()
        .getSpec()
        .getContainers()
        .get(0)
        .getResources()
        .setLimits(new java.util.HashMap<>(Map.of("example.com/gpu", new Quantity("1"))));
    groups.create(trainer);
    List<Pod> pods = awaitPods("trainer", 2);
    assertThat(pods)
        .allSatisfy(
            p ->
                assertThat(GroupRenderer.pinnedNode(p))
                    .as("the only node with the GPU")
                    .isEqualTo(nodeName("gpu")));
  }

  @Test
  void anInstanceNotRunningInTimeIsPlacedAgainWholeOnAnotherNode() {
    readyNode("slow", "4", "8Gi");
    readyNode("spare", "4", "8Gi");
    SharedIpcGroup group = group("late", 1, "64Mi");
    group.getSpec().setScheduling(new SchedulingSpec());
    group.getSpec().getScheduling().setTimeout("10s");
    groups.create(group);
    List<Pod> first = awaitPods("late", 2);
    String firstNode = GroupRenderer.pinnedNode(first.get(0));
    // Never run them: after 10 s (the floor) the whole instance goes, and comes back on the other
    // node.
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              kubelet.finishTerminating(ns);
              List<Pod> now = pods("late");
              assertThat(now)
                  .hasSize(2)
                  .allSatisfy(p -> assertThat(GroupRenderer.pinnedNode(p)).isNotEqualTo(firstNode));
            });
    assertThat(groups.eventReasons()).contains("PlacementTimedOut");
  }

  @Test
  void aLostNodeMovesItsInstances() {
    readyNode("doomed", "4", "8Gi");
    groups.create(group("mover", 1, "64Mi"));
    List<Pod> pods = awaitPods("mover", 2);
    pods.forEach(p -> kubelet.run(p, GroupRenderer.pinnedNode(p), true));
    groups.awaitCondition("mover", "Ready", "True", "AllInstancesReady");
    readyNode("haven", "4", "8Gi");
    client.nodes().withName(nodeName("doomed")).delete();
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              kubelet.finishTerminating(ns);
              assertThat(pods("mover"))
                  .hasSize(2)
                  .allSatisfy(
                      p -> assertThat(GroupRenderer.pinnedNode(p)).isEqualTo(nodeName("haven")));
            });
    assertThat(groups.eventReasons()).contains("NodeLost");
  }

  /**
   * A member pod of an instance that ran for longer than its 10 s timeout is deleted: it comes back
   * on the same node and the other member keeps running, same UID; no move, no PlacementTimedOut.
   * With {@code restart}, the operator is stopped before the delete and started after: the verdict
   * rests on the placement kept in status, not on memory.
   */
  private void aDeletedMemberComesBackOnItsNode(boolean restart) {
    readyNode("home", "4", "8Gi");
    readyNode("other", "4", "8Gi");
    SharedIpcGroup group = group("healer", 1, "64Mi");
    group.getSpec().setScheduling(new SchedulingSpec());
    group.getSpec().getScheduling().setTimeout("10s"); // the floor (CEL)
    groups.create(group);
    List<Pod> first = awaitPods("healer", 2);
    String home = GroupRenderer.pinnedNode(first.get(0));
    first.forEach(p -> kubelet.run(p, home, true));
    groups.awaitCondition("healer", "Ready", "True", "AllInstancesReady");
    awaitPastTimeout(first, Duration.ofSeconds(11));
    String firstWholeAt = groups.get("healer").getStatus().getInstances().get(0).getFirstWholeAt();
    Pod writer =
        first.stream()
            .filter(p -> p.getMetadata().getName().endsWith("-writer"))
            .findFirst()
            .orElseThrow();
    Pod reader =
        first.stream()
            .filter(p -> p.getMetadata().getName().endsWith("-reader"))
            .findFirst()
            .orElseThrow();

    if (restart) {
      RunningOperator.stop();
    }
    client
        .pods()
        .inNamespace(ns)
        .withName(reader.getMetadata().getName())
        .withGracePeriod(0)
        .delete();
    if (restart) {
      await().atMost(WAIT).until(() -> pods("healer").size() == 1);
      RunningOperator.shared();
    }
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              kubelet.finishTerminating(ns);
              Pod again =
                  client.pods().inNamespace(ns).withName(reader.getMetadata().getName()).get();
              assertThat(again).as("the reader, re-created").isNotNull();
              assertThat(again.getMetadata().getUid()).isNotEqualTo(reader.getMetadata().getUid());
              assertThat(GroupRenderer.pinnedNode(again)).as("the reader's node").isEqualTo(home);
            });
    kubelet.run(
        client.pods().inNamespace(ns).withName(reader.getMetadata().getName()).get(), home, true);
    SharedIpcGroup ready = groups.awaitCondition("healer", "Ready", "True", "AllInstancesReady");
    Pod writerNow = client.pods().inNamespace(ns).withName(writer.getMetadata().getName()).get();
    assertThat(writerNow.getMetadata().getUid())
        .as("the writer kept running: same pod")
        .isEqualTo(writer.getMetadata().getUid());
    assertThat(writerNow.getMetadata().getDeletionTimestamp()).isNull();
    assertThat(pods("healer"))
        .hasSize(2)
        .allSatisfy(p -> assertThat(GroupRenderer.pinnedNode(p)).isEqualTo(home));
    assertThat(ready.getStatus().getInstances().get(0).getFirstWholeAt())
        .as("first whole, unchanged")
        .isNotNull()
        .isEqualTo(firstWholeAt);
    assertThat(ready.getStatus().getInstances().get(0).getBrokenSince()).as("whole again").isNull();
    assertThat(groups.eventReasons())
        .doesNotContain("PlacementTimedOut", "NodeUnavailable", "NodeLost");
  }

  @Test
  void aDeletedMemberComesBackOnItsNodeWhileTheOtherMemberKeepsRunning() {
    aDeletedMemberComesBackOnItsNode(false);
  }

  @Test
  void theVerdictOnALostMemberHoldsAcrossAnOperatorRestart() {
    try {
      aDeletedMemberComesBackOnItsNode(true);
    } finally {
      RunningOperator.shared();
    }
  }

  /**
   * A template change of one member replaces only that member's pods, one instance at a time: the
   * other member's pods keep their UIDs, and the second instance's pod goes only once the first
   * instance is Ready again.
   */
  @Test
  void aTemplateChangeOfOneMemberReplacesOnlyItsPodsInstanceByInstance() {
    readyNode("a", "4", "8Gi");
    readyNode("b", "4", "8Gi");
    SharedIpcGroup group = group("roll", 2, "64Mi");
    group.getSpec().setScheduling(new SchedulingSpec());
    group.getSpec().getScheduling().setTimeout("10s"); // the floor (CEL)
    groups.create(group);
    List<Pod> first = awaitPods("roll", 4);
    first.forEach(p -> kubelet.run(p, GroupRenderer.pinnedNode(p), true));
    groups.awaitCondition("roll", "Ready", "True", "AllInstancesReady");
    awaitPastTimeout(first, Duration.ofSeconds(11)); // instances that ran longer than their timeout
    Map<String, String> uids =
        first.stream()
            .collect(
                Collectors.toMap(p -> p.getMetadata().getName(), p -> p.getMetadata().getUid()));
    Map<String, String> nodeOf =
        first.stream()
            .collect(Collectors.toMap(p -> p.getMetadata().getName(), GroupRenderer::pinnedNode));

    groups.edit(
        "roll",
        g -> {
          g.getSpec()
              .getMembers()
              .get(1)
              .getTemplate()
              .getSpec()
              .getContainers()
              .get(0)
              .setImage("busybox:1.37");
          return g;
        });
    // Step 1: instance 0's reader alone goes (nothing runs it again yet, so nothing else may go).
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              kubelet.finishTerminating(ns);
              Pod reader0 = client.pods().inNamespace(ns).withName("roll-0-reader").get();
              assertThat(reader0).isNotNull();
              assertThat(reader0.getMetadata().getUid()).isNotEqualTo(uids.get("roll-0-reader"));
              assertThat(GroupRenderer.pinnedNode(reader0)).isEqualTo(nodeOf.get("roll-0-reader"));
            });
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(
                        client
                            .pods()
                            .inNamespace(ns)
                            .withName("roll-1-reader")
                            .get()
                            .getMetadata()
                            .getUid())
                    .as("instance 1 untouched while instance 0 is not Ready")
                    .isEqualTo(uids.get("roll-1-reader")));
    // Step 2: once instance 0 is Ready again, instance 1's reader is replaced.
    kubelet.run(
        client.pods().inNamespace(ns).withName("roll-0-reader").get(),
        nodeOf.get("roll-0-reader"),
        true);
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              kubelet.finishTerminating(ns);
              Pod reader1 = client.pods().inNamespace(ns).withName("roll-1-reader").get();
              assertThat(reader1).isNotNull();
              assertThat(reader1.getMetadata().getUid()).isNotEqualTo(uids.get("roll-1-reader"));
              assertThat(GroupRenderer.pinnedNode(reader1)).isEqualTo(nodeOf.get("roll-1-reader"));
            });
    kubelet.run(
        client.pods().inNamespace(ns).withName("roll-1-reader").get(),
        nodeOf.get("roll-1-reader"),
        true);
    groups.awaitCondition("roll", "Ready", "True", "AllInstancesReady");
    for (String writer : List.of("roll-0-writer", "roll-1-writer")) {
      assertThat(client.pods().inNamespace(ns).withName(writer).get().getMetadata().getUid())
          .as("%s untouched", writer)
          .isEqualTo(uids.get(writer));
    }
    assertThat(groups.eventReasons())
        .doesNotContain("PlacementTimedOut", "NodeUnavailable", "NodeLost");
  }

  /** Removing a member deletes only its pods; the others keep running where they are. */
  @Test
  void aRemovedMemberTakesOnlyItsOwnPods() {
    readyNode("a", "4", "8Gi");
    SharedIpcGroup group = group("shrink", 1, "64Mi");
    group.getSpec().setScheduling(new SchedulingSpec());
    group.getSpec().getScheduling().setTimeout("10s"); // the floor (CEL)
    groups.create(group);
    List<Pod> first = awaitPods("shrink", 2);
    first.forEach(p -> kubelet.run(p, GroupRenderer.pinnedNode(p), true));
    groups.awaitCondition("shrink", "Ready", "True", "AllInstancesReady");
    awaitPastTimeout(first, Duration.ofSeconds(11));
    String writerUid =
        client.pods().inNamespace(ns).withName("shrink-0-writer").get().getMetadata().getUid();
    groups.edit(
        "shrink",
        g -> {
          g.getSpec().getMembers().removeIf(m -> m.getName().equals("reader"));
          return g;
        });
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              kubelet.finishTerminating(ns);
              assertThat(pods("shrink"))
                  .extracting(p -> p.getMetadata().getName())
                  .containsExactly("shrink-0-writer");
            });
    assertThat(
            client.pods().inNamespace(ns).withName("shrink-0-writer").get().getMetadata().getUid())
        .isEqualTo(writerUid);
    groups.awaitCondition("shrink", "Ready", "True", "AllInstancesReady");
    assertThat(groups.eventReasons())
        .contains("MemberRemoved")
        .doesNotContain("PlacementTimedOut", "NodeUnavailable");
  }

  // ---- helpers ----

  private String nodeName(String suffix) {
    return ns + "-" + suffix;
  }

  private SharedIpcGroup group(String name, int replicas, String size) {
    SharedIpcGroup group = Fixtures.forCluster(name, replicas, size);
    group.getSpec().setPlacement(Placement.SameNode);
    group
        .getSpec()
        .getMembers()
        .forEach(
            m -> {
              m.getTemplate().getSpec().setNodeSelector(Map.of("sharedipc-test", ns));
              m.getTemplate()
                  .getSpec()
                  .getContainers()
                  .get(0)
                  .getResources()
                  .setRequests(
                      new java.util.HashMap<>(
                          Map.of("cpu", new Quantity("500m"), "memory", new Quantity("64Mi"))));
            });
    return group;
  }

  /** Waits until the pods are older than {@code age}: an instance that has run past its timeout. */
  private static void awaitPastTimeout(List<Pod> pods, Duration age) {
    java.time.Instant newest =
        pods.stream()
            .map(p -> java.time.Instant.parse(p.getMetadata().getCreationTimestamp()))
            .max(java.time.Instant::compareTo)
            .orElseThrow();
    await().atMost(age.plus(WAIT)).until(() -> java.time.Instant.now().isAfter(newest.plus(age)));
  }

  private List<Pod> pods(String group) {
    return client.pods().inNamespace(ns).withLabel(Labels.GROUP, group).list().getItems().stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .toList();
  }

  private List<Pod> awaitPods(String group, int count) {
    await().atMost(WAIT).until(() -> pods(group).size() == count);
    return pods(group);
  }
}
