package dev.sharedipc.operator.samenode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.api.CsiVolume;
import dev.sharedipc.api.Labels;
import dev.sharedipc.api.v1alpha1.Placement;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedMemoryMedium;
import dev.sharedipc.operator.Fixtures;
import dev.sharedipc.operator.GroupsInNamespace;
import dev.sharedipc.operator.OperatorFixture;
import dev.sharedipc.operator.render.GroupRenderer;
import dev.sharedipc.operator.render.SharedMemoryMedia;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.storage.CSIDriverBuilder;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The shared-memory medium of a running SameNode group on the real API server. A CSIDriver {@code
 * shm.sharedipc.dev} that appears or disappears wakes the group (its MemoryAccounted condition says
 * at once which medium is in use, and how to switch) and replaces no member: members moved one by
 * one would split an instance across two memories. An explicit {@code spec.sharedMemory.medium}
 * replaces the instances whole, one at a time: no instance ever has live members on two media. The
 * CSIDriver is cluster-wide: each test removes it.
 */
class SharedMemoryMediumIT extends OperatorFixture {
  SharedMemoryMediumIT() {
    super("medium");
  }

  @BeforeEach
  void noDriver() {
    removeDriver();
  }

  @AfterEach
  void removeDriverAfter() {
    removeDriver();
  }

  @Test
  void aCsiDriverThatAppearsUpdatesTheConditionAndReplacesNoMember() {
    readyNode("a");
    groups.create(group("steady", 1));
    List<Pod> before = runAll("steady", 2);
    assertThat(before)
        .allSatisfy(p -> assertThat(SharedMemoryMedia.of(p)).contains(SharedMemoryMedium.HostPath));
    assertThat(memoryAccounted("steady").getMessage())
        .contains("default: no CSIDriver shm.sharedipc.dev exists");

    client
        .storage()
        .v1()
        .csiDrivers()
        .resource(
            new CSIDriverBuilder()
                .withNewMetadata()
                .withName(CsiVolume.DRIVER)
                .endMetadata()
                .withNewSpec()
                .withAttachRequired(false)
                .withPodInfoOnMount(true)
                .withVolumeLifecycleModes("Ephemeral")
                .endSpec()
                .build())
        .create();

    await("the condition says the driver exists and how to switch")
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(memoryAccounted("steady").getMessage())
                    .contains(
                        "kept: the group's pods use it",
                        "now exists",
                        "set spec.sharedMemory.medium: CSI"));
    assertThat(uids(pods("steady"))).as("no member replaced").isEqualTo(uids(before));
    assertThat(pods("steady"))
        .allSatisfy(
            p -> {
              assertThat(p.getMetadata().getDeletionTimestamp()).isNull();
              assertThat(SharedMemoryMedia.of(p)).contains(SharedMemoryMedium.HostPath);
            });

    removeDriver();
    await("the condition back to the default without the driver")
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(memoryAccounted("steady").getMessage())
                    .contains("default: no CSIDriver shm.sharedipc.dev exists"));
    assertThat(uids(pods("steady"))).as("no member replaced").isEqualTo(uids(before));
    assertThat(groups.eventReasons()).doesNotContain("Replacing", "MediumChanged");
  }

  @Test
  void anExplicitMediumChangeReplacesEachInstanceWholeOneAtATime() throws Exception {
    readyNode("a");
    readyNode("b");
    groups.create(group("switch", 2));
    List<Pod> before = runAll("switch", 4);
    assertThat(before)
        .allSatisfy(p -> assertThat(SharedMemoryMedia.of(p)).contains(SharedMemoryMedium.HostPath));

    SplitWatch split = new SplitWatch();
    try (Watch watch =
        client.pods().inNamespace(ns).withLabel(Labels.GROUP, "switch").watch(split)) {
      groups.edit(
          "switch",
          g -> {
            g.getSpec().getSharedMemory().setMedium(SharedMemoryMedium.CSI);
            return g;
          });
      await("every member on the CSI volume, Ready")
          .atMost(Duration.ofSeconds(90))
          .untilAsserted(
              () -> {
                kubelet.finishTerminating(ns);
                for (Pod p : pods("switch")) {
                  if (p.getStatus() == null || !"Running".equals(p.getStatus().getPhase())) {
                    kubelet.run(p, GroupRenderer.pinnedNode(p), true);
                  }
                }
                List<Pod> now = pods("switch");
                assertThat(now)
                    .hasSize(4)
                    .allSatisfy(
                        p -> assertThat(SharedMemoryMedia.of(p)).contains(SharedMemoryMedium.CSI));
                assertThat(GroupsInNamespace.condition(groups.get("switch"), "Ready").getStatus())
                    .isEqualTo("True");
              });
    }
    assertThat(split.splits).as("instances seen with live members on two media").isEmpty();
    assertThat(split.bothDown)
        .as("both instances without a member at once: not one at a time")
        .isFalse();
    assertThat(groups.eventReasons()).contains("MediumChanged");
  }

  /**
   * Follows the group's pods as the API server reports them: an instance with live (not
   * terminating) members on both media is a split; both instances with no live member at once is
   * not one at a time.
   */
  private static final class SplitWatch implements Watcher<Pod> {
    private final Map<String, Pod> live = new ConcurrentHashMap<>();
    final List<String> splits = new java.util.concurrent.CopyOnWriteArrayList<>();
    volatile boolean bothDown;

    @Override
    public synchronized void eventReceived(Action action, Pod pod) {
      if (action == Action.DELETED || pod.getMetadata().getDeletionTimestamp() != null) {
        live.remove(pod.getMetadata().getName());
      } else {
        live.put(pod.getMetadata().getName(), pod);
      }
      Map<String, Set<SharedMemoryMedium>> media =
          live.values().stream()
              .collect(
                  Collectors.groupingBy(
                      p -> p.getMetadata().getLabels().get(Labels.INSTANCE),
                      Collectors.mapping(
                          p -> SharedMemoryMedia.of(p).orElseThrow(), Collectors.toSet())));
      media.forEach(
          (instance, m) -> {
            if (m.size() > 1) {
              splits.add("instance " + instance + " at " + live.keySet());
            }
          });
      if (media.isEmpty()) {
        bothDown = true;
      }
    }

    @Override
    public void onClose(WatcherException cause) {}
  }

  // ---- helpers ----

  private Condition memoryAccounted(String group) {
    return GroupsInNamespace.condition(groups.get(group), "MemoryAccounted");
  }

  private List<Pod> runAll(String group, int count) {
    await().atMost(WAIT).until(() -> pods(group).size() == count);
    List<Pod> pods = pods(group);
    pods.forEach(p -> kubelet.run(p, GroupRenderer.pinnedNode(p), true));
    groups.awaitCondition(group, "Ready", "True", "AllInstancesReady");
    return pods(group);
  }

  private static Map<String, String> uids(List<Pod> pods) {
    return pods.stream()
        .collect(Collectors.toMap(p -> p.getMetadata().getName(), p -> p.getMetadata().getUid()));
  }

  private void removeDriver() {
    client.storage().v1().csiDrivers().withName(CsiVolume.DRIVER).delete();
    await()
        .atMost(WAIT)
        .until(() -> client.storage().v1().csiDrivers().withName(CsiVolume.DRIVER).get() == null);
  }

  private SharedIpcGroup group(String name, int replicas) {
    SharedIpcGroup group = Fixtures.forCluster(name, replicas, "64Mi");
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
                      new HashMap<>(
                          Map.of("cpu", new Quantity("500m"), "memory", new Quantity("64Mi"))));
            });
    return group;
  }

  private List<Pod> pods(String group) {
    return client.pods().inNamespace(ns).withLabel(Labels.GROUP, group).list().getItems().stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .toList();
  }
}
