package dev.sharedipc.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.api.Labels;
import dev.sharedipc.api.testing.RealApiServer;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.operator.Fixtures;
import dev.sharedipc.operator.render.DesiredState;
import dev.sharedipc.operator.sync.GroupEvents;
import dev.sharedipc.operator.sync.OwnedPods;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A SamePod rollout step on the real API server when the operator's cache lags: the cache still
 * shows the pod just evicted as ready and not terminating (as an informer does until the eviction's
 * update arrives), so a step taken on that view would take a second working instance away.
 * SamePodGroupE2E caught this once on the local control plane: two instances down at once.
 */
class PodSyncIT {
  private static RealApiServer api;
  private static KubernetesClient client;
  private String ns;
  private SharedIpcGroup group;

  @BeforeAll
  static void start() {
    api = RealApiServer.shared();
    client = api.client();
  }

  @BeforeEach
  void groupWithThreeReadyPods() {
    ns = api.newNamespace("pod-sync");
    // The group exists only here; its pods' controller is a stand-in ConfigMap (see Fixtures).
    String ownerUid = Fixtures.standInOwnerUid(client, ns, "g");
    group = Fixtures.forCluster("g", 3, "64Mi");
    group.getMetadata().setNamespace(ns);
    group.getMetadata().setUid(ownerUid);
  }

  @Test
  void aStepWaitsUntilTheCacheShowsTheLastEviction() {
    List<Pod> cached = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      cached.add(readyPod("g-" + i, "old"));
    }
    DesiredState desired =
        new DesiredState(
            List.of(wanted("g-0", "new"), wanted("g-1", "new"), wanted("g-2", "new")), null);
    List<String> replaced = new ArrayList<>();
    PodSync sync =
        new PodSync(
            new OwnedPods(client),
            new GroupEvents() {
              @Override
              public void normal(HasMetadata object, String reason, String message) {
                if (reason.equals("Replacing")) {
                  replaced.add(message);
                }
              }

              @Override
              public void warning(HasMetadata object, String reason, String message) {}
            });

    sync.sync(group, desired, cached, null);
    assertThat(replaced).as("the first step evicts one pod").hasSize(1);
    assertThat(terminatingOrGone()).as("pods taken away by the first step").hasSize(1);

    // the same cached view again (an informer's list has no fixed order): the evicted pod still
    // looks ready and not terminating
    sync.sync(group, desired, List.of(cached.get(1), cached.get(2), cached.get(0)), null);
    sync.sync(group, desired, List.of(cached.get(2), cached.get(0), cached.get(1)), null);
    assertThat(replaced)
        .as("steps taken on a view that does not show the last eviction")
        .hasSize(1);
    assertThat(terminatingOrGone()).as("pods taken away").hasSize(1);
  }

  /** The names of the group's pods the API server shows terminating or no longer has. */
  private List<String> terminatingOrGone() {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Pod p = client.pods().inNamespace(ns).withName("g-" + i).get();
      if (p == null || p.getMetadata().getDeletionTimestamp() != null) {
        out.add("g-" + i);
      }
    }
    return out;
  }

  private Pod wanted(String name, String hash) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(ns)
        .withAnnotations(Map.of(Labels.TEMPLATE_HASH_ANNOTATION, hash))
        .endMetadata()
        .build();
  }

  /** A pod of the group carrying template {@code hash}, Ready as a kubelet would report it. */
  private Pod readyPod(String name, String hash) {
    Pod created =
        client
            .pods()
            .inNamespace(ns)
            .resource(
                new PodBuilder()
                    .withNewMetadata()
                    .withName(name)
                    .withAnnotations(Map.of(Labels.TEMPLATE_HASH_ANNOTATION, hash))
                    .addNewOwnerReference()
                    .withApiVersion("v1")
                    .withKind("ConfigMap")
                    .withName("g")
                    .withUid(group.getMetadata().getUid())
                    .withController(true)
                    .endOwnerReference()
                    .endMetadata()
                    .withNewSpec()
                    .addNewContainer()
                    .withName("c")
                    .withImage("busybox")
                    .endContainer()
                    .endSpec()
                    .build())
            .create();
    // a patch, not an update: the fake kubelet other tests run on this API server may touch the pod
    return client
        .pods()
        .inNamespace(ns)
        .withName(created.getMetadata().getName())
        .editStatus(
            p ->
                new PodBuilder(p)
                    .withStatus(
                        new io.fabric8.kubernetes.api.model.PodStatusBuilder()
                            .withPhase("Running")
                            .addNewCondition()
                            .withType("Ready")
                            .withStatus("True")
                            .endCondition()
                            .build())
                    .build());
  }
}
