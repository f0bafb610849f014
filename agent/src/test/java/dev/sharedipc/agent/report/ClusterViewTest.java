package dev.sharedipc.agent.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.agent.verdict.Policy;
import dev.sharedipc.api.v1alpha1.EffectiveOrphanPolicy;
import dev.sharedipc.api.v1alpha1.OrphanPolicy;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The agent obeys only what the operator published; anything missing or unreadable is Report. */
class ClusterViewTest {
  @Test
  void thePublishedPolicyAndGraceApply() {
    Policy p =
        ClusterView.published(
            "ns/g",
            new EffectiveOrphanPolicy(OrphanPolicy.Delete, "90s", "the group's orphanPolicy"));

    assertThat(p.orphanPolicy()).isEqualTo(OrphanPolicy.Delete);
    assertThat(p.grace()).isEqualTo(Duration.ofSeconds(90));
    assertThat(p.source()).isEqualTo("group ns/g: the group's orphanPolicy");
  }

  @Test
  void nothingPublishedIsReport() {
    assertThat(ClusterView.published("ns/g", null))
        .satisfies(
            p -> {
              assertThat(p.orphanPolicy()).isEqualTo(OrphanPolicy.Report);
              assertThat(p.source()).contains("ns/g has no status.effectiveOrphanPolicy");
            });
    assertThat(
            ClusterView.published("ns/g", new EffectiveOrphanPolicy(null, "0s", "x"))
                .orphanPolicy())
        .isEqualTo(OrphanPolicy.Report);
  }

  @Test
  void anUnreadableGracePeriodIsReport() {
    Policy p =
        ClusterView.published("ns/g", new EffectiveOrphanPolicy(OrphanPolicy.Delete, "soon", "x"));

    assertThat(p.orphanPolicy()).isEqualTo(OrphanPolicy.Report);
    assertThat(p.source()).contains("unreadable status.effectiveOrphanPolicy.gracePeriod 'soon'");
  }

  @Test
  void containerStatusesTellBackOffAndRecentRestarts() {
    var pod =
        new io.fabric8.kubernetes.api.model.PodBuilder()
            .withNewMetadata()
            .withName("p")
            .withNamespace("n")
            .endMetadata()
            .withNewStatus()
            .addNewInitContainerStatus()
            .withName("init")
            .withRestartCount(0)
            .endInitContainerStatus()
            .addNewContainerStatus()
            .withName("writer")
            .withRestartCount(4)
            .withNewState()
            .withNewWaiting()
            .withReason("CrashLoopBackOff")
            .endWaiting()
            .endState()
            .withNewLastState()
            .withNewTerminated()
            .withFinishedAt("2026-01-01T00:00:00Z")
            .endTerminated()
            .endLastState()
            .endContainerStatus()
            .addNewContainerStatus()
            .withName("reader")
            .withRestartCount(1)
            .withNewState()
            .withNewRunning()
            .endRunning()
            .endState()
            .withNewLastState()
            .withNewTerminated()
            .withFinishedAt("2025-12-31T00:00:00Z")
            .endTerminated()
            .endLastState()
            .endContainerStatus()
            .endStatus()
            .build();

    var containers = ClusterView.containers(json(pod));
    var node =
        new dev.sharedipc.agent.attribution.NodePod(
            "n", "p", java.util.Map.of(), "Running", null, null, containers);

    assertThat(containers)
        .extracting(dev.sharedipc.agent.attribution.NodePod.Container::name)
        .containsExactly("init", "writer", "reader");
    assertThat(node.inBackOff()).containsExactly("writer");
    assertThat(node.restartedSince(java.time.Instant.parse("2025-12-31T12:00:00Z")))
        .containsExactly("writer");
    assertThat(node.restartedSince(java.time.Instant.parse("2025-12-30T00:00:00Z")))
        .containsExactly("writer", "reader");
    assertThat(ClusterView.containers(json(new io.fabric8.kubernetes.api.model.Pod()))).isEmpty();
  }

  @Test
  void aGroupIsReadForThePolicyTheOperatorPublishesAndAnUnknownPolicyIsNone() {
    var published =
        dev.sharedipc.agent.kube.Json.object()
            .put("policy", "Delete")
            .put("gracePeriod", "1m")
            .put("source", "spec");
    EffectiveOrphanPolicy read = ClusterView.effectivePolicy(published);
    assertThat(read.getPolicy()).isEqualTo(OrphanPolicy.Delete);
    assertThat(read.getGracePeriod()).isEqualTo("1m");
    assertThat(read.getSource()).isEqualTo("spec");

    published.put("policy", "Shred");
    assertThat(ClusterView.published("ns/g", ClusterView.effectivePolicy(published)).orphanPolicy())
        .as("a policy this agent does not know is Report, never a removal")
        .isEqualTo(OrphanPolicy.Report);
    assertThat(ClusterView.effectivePolicy(null)).isNull();
  }

  @Test
  void aCachedPodKeepsWhatTheAgentReads() {
    io.fabric8.kubernetes.api.model.Pod p =
        new io.fabric8.kubernetes.api.model.PodBuilder()
            .withNewMetadata()
            .withName("p")
            .withNamespace("ns")
            .withLabels(java.util.Map.of("sharedipc.dev/group", "feed"))
            .addNewOwnerReference()
            .withUid("other")
            .withController(false)
            .endOwnerReference()
            .addNewOwnerReference()
            .withApiVersion("sharedipc.dev/v1alpha1")
            .withKind("SharedIpcGroup")
            .withName("feed")
            .withUid("group-uid")
            .withController(true)
            .endOwnerReference()
            .addNewManagedField()
            .withManager("kubectl")
            .endManagedField()
            .endMetadata()
            .withNewSpec()
            .withNodeName("n")
            .addNewVolume()
            .withName("shared")
            .withNewHostPath()
            .withPath("/var/lib/sharedipc/shared/ns_feed_group-uid_0")
            .endHostPath()
            .endVolume()
            .addNewVolume()
            .withName("scratch")
            .withNewEmptyDir()
            .endEmptyDir()
            .endVolume()
            .endSpec()
            .withNewStatus()
            .withPhase("Running")
            .endStatus()
            .build();

    var t = ClusterView.nodePod(json(p));

    assertThat(t.namespace()).isEqualTo("ns");
    assertThat(t.name()).isEqualTo("p");
    assertThat(t.labels()).isEqualTo(p.getMetadata().getLabels());
    assertThat(t.phase()).isEqualTo("Running");
    assertThat(t.groupUid()).as("the controller's uid").isEqualTo("group-uid");
    assertThat(t.hostPathNames()).containsExactly("ns_feed_group-uid_0");

    p.getMetadata().getOwnerReferences().get(1).setKind("ReplicaSet");
    p.getMetadata().getOwnerReferences().get(1).setApiVersion("apps/v1");
    assertThat(ClusterView.nodePod(json(p)).groupUid())
        .as("a pod another controller owns is no group's, whatever its labels say")
        .isNull();
  }

  private static com.fasterxml.jackson.databind.JsonNode json(Object o) {
    return new com.fasterxml.jackson.databind.ObjectMapper().valueToTree(o);
  }
}
