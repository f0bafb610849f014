package dev.sharedipc.operator.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sharedipc.api.testing.RealApiServer;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Pod deletes and evictions on the real API server carry a UID precondition: a pod judged and then
 * replaced by a successor of the same name is never deleted in the successor's place.
 */
class OwnedPodsIT {
  private static RealApiServer api;
  private static KubernetesClient client;
  private String ns;
  private SharedIpcGroup group;
  private OwnedPods pods;

  @BeforeAll
  static void start() {
    api = RealApiServer.shared();
    client = api.client();
  }

  @BeforeEach
  void namespace() {
    ns = api.newNamespace("owned-pods");
    group = dev.sharedipc.operator.Fixtures.forCluster("g", 1, "64Mi");
    group.getMetadata().setNamespace(ns);
    group = client.resource(group).create();
    pods = new OwnedPods(client);
  }

  private Pod createPod(String name) {
    return client
        .pods()
        .inNamespace(ns)
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .withOwnerReferences(
                    dev.sharedipc.operator.render.GroupRenderer.ownerReference(group))
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("c")
                .withImage("busybox")
                .endContainer()
                .endSpec()
                .build())
        .create();
  }

  @Test
  void aDeleteOfAPodThatWasReplacedLeavesTheSuccessor() {
    Pod judged = createPod("p");
    client.pods().inNamespace(ns).withName("p").withGracePeriod(0).delete();
    client
        .pods()
        .inNamespace(ns)
        .withName("p")
        .waitUntilCondition(p -> p == null, 10, java.util.concurrent.TimeUnit.SECONDS);
    Pod successor = createPod("p");

    assertThat(pods.delete(group, judged, 0L)).as("delete of the judged, replaced pod").isFalse();
    assertThat(pods.evict(group, judged)).as("eviction of the judged, replaced pod").isFalse();
    assertThat(client.pods().inNamespace(ns).withName("p").get().getMetadata().getUid())
        .as("the successor stands")
        .isEqualTo(successor.getMetadata().getUid());

    assertThat(pods.delete(group, successor, 0L)).isTrue();
    assertThat(client.pods().inNamespace(ns).withName("p").get()).isNull();
    assertThat(pods.delete(group, successor, 0L)).as("gone already").isFalse();
  }

  @Test
  void anEvictionRemovesTheSamePod() {
    Pod pod = createPod("e");
    assertThat(pods.evict(group, pod)).isTrue();
    Pod after = client.pods().inNamespace(ns).withName("e").get();
    assertThat(after == null || after.getMetadata().getDeletionTimestamp() != null)
        .as("evicted")
        .isTrue();
  }

  @Test
  void anEvictionADisruptionBudgetRefusesLeavesThePodAndSaysSo() {
    Pod pod =
        client
            .pods()
            .inNamespace(ns)
            .resource(
                new PodBuilder(createPod("guarded"))
                    .editMetadata()
                    .addToLabels("app", "guarded")
                    .endMetadata()
                    .build())
            .update();
    // The API server lets any pod that is not Running go regardless of budgets: make it Running and
    // Ready.
    pod =
        client
            .pods()
            .inNamespace(ns)
            .withName("guarded")
            .editStatus(
                p ->
                    new PodBuilder(p)
                        .withNewStatus()
                        .withPhase("Running")
                        .addNewCondition()
                        .withType("Ready")
                        .withStatus("True")
                        .endCondition()
                        .endStatus()
                        .build());
    // No disruption controller runs here, so the budget is never processed: the API server refuses
    // every eviction it covers, as it refuses one that would break a processed budget.
    client
        .policy()
        .v1()
        .podDisruptionBudget()
        .inNamespace(ns)
        .resource(
            new io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetBuilder()
                .withNewMetadata()
                .withName("guard")
                .endMetadata()
                .withNewSpec()
                .withMinAvailable(new io.fabric8.kubernetes.api.model.IntOrString(1))
                .withNewSelector()
                .addToMatchLabels("app", "guarded")
                .endSelector()
                .endSpec()
                .build())
        .create();
    assertThat(pods.evict(group, pod)).as("eviction under a budget").isFalse();
    assertThat(
            client
                .pods()
                .inNamespace(ns)
                .withName("guarded")
                .get()
                .getMetadata()
                .getDeletionTimestamp())
        .isNull();
  }

  @Test
  void aPodTheGroupDoesNotControlIsNeverDeleted() {
    Pod foreign =
        client
            .pods()
            .inNamespace(ns)
            .resource(
                new PodBuilder()
                    .withNewMetadata()
                    .withName("foreign")
                    .endMetadata()
                    .withNewSpec()
                    .addNewContainer()
                    .withName("c")
                    .withImage("busybox")
                    .endContainer()
                    .endSpec()
                    .build())
            .create();
    assertThatThrownBy(() -> pods.delete(group, foreign, 0L))
        .hasMessageContaining("not controlled by group g");
    assertThat(client.pods().inNamespace(ns).withName("foreign").get()).isNotNull();
  }
}
