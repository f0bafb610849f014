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

    var containers = ClusterView.containers(pod);
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
    assertThat(ClusterView.containers(new io.fabric8.kubernetes.api.model.Pod())).isEmpty();
  }

  @Test
  void aCachedGroupKeepsOnlyItsNameAndThePolicyTheOperatorPublishes() {
    dev.sharedipc.api.v1alpha1.SharedIpcGroup g = new dev.sharedipc.api.v1alpha1.SharedIpcGroup();
    g.setMetadata(
        new io.fabric8.kubernetes.api.model.ObjectMetaBuilder()
            .withNamespace("ns")
            .withName("feed")
            .withUid("u1")
            .withResourceVersion("7")
            .withLabels(java.util.Map.of("a", "b"))
            .build());
    g.setSpec(new dev.sharedipc.api.v1alpha1.SharedIpcGroupSpec());
    dev.sharedipc.api.v1alpha1.SharedIpcGroupStatus status =
        new dev.sharedipc.api.v1alpha1.SharedIpcGroupStatus();
    status.setEffectiveOrphanPolicy(new EffectiveOrphanPolicy(OrphanPolicy.Delete, "1m", "spec"));
    status.setReadyInstances(2);
    g.setStatus(status);

    dev.sharedipc.api.v1alpha1.SharedIpcGroup t = ClusterView.trimmed(g);

    assertThat(t.getMetadata().getNamespace()).isEqualTo("ns");
    assertThat(t.getMetadata().getName()).isEqualTo("feed");
    assertThat(t.getMetadata().getResourceVersion()).isEqualTo("7");
    assertThat(t.getMetadata().getLabels()).isNullOrEmpty();
    assertThat(t.getSpec()).isNull();
    assertThat(t.getStatus().getReadyInstances()).isNull();
    assertThat(t.getStatus().getEffectiveOrphanPolicy().getPolicy()).isEqualTo(OrphanPolicy.Delete);
  }

  @Test
  void aCachedPodLosesItsManagedFieldsOnly() {
    io.fabric8.kubernetes.api.model.Pod p =
        new io.fabric8.kubernetes.api.model.PodBuilder()
            .withNewMetadata()
            .withName("p")
            .withLabels(java.util.Map.of("sharedipc.dev/group", "feed"))
            .withAnnotations(java.util.Map.of("k", "v"))
            .addNewManagedField()
            .withManager("kubectl")
            .endManagedField()
            .endMetadata()
            .withNewSpec()
            .withNodeName("n")
            .endSpec()
            .build();

    io.fabric8.kubernetes.api.model.Pod t = ClusterView.trimmed(p);

    assertThat(t.getMetadata().getManagedFields()).isNullOrEmpty();
    assertThat(t.getMetadata().getLabels()).isEqualTo(p.getMetadata().getLabels());
    assertThat(t.getMetadata().getAnnotations()).isEqualTo(p.getMetadata().getAnnotations());
    assertThat(t.getSpec()).isEqualTo(p.getSpec());
    assertThat(p.getMetadata().getManagedFields())
        .as("the event's object is left whole")
        .hasSize(1);
  }
}
