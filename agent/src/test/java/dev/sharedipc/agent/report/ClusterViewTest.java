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
    Policy p = ClusterView.published("ns/g", new EffectiveOrphanPolicy(OrphanPolicy.Delete, "90s", "the group's orphanPolicy"));

    assertThat(p.orphanPolicy()).isEqualTo(OrphanPolicy.Delete);
    assertThat(p.grace()).isEqualTo(Duration.ofSeconds(90));
    assertThat(p.source()).isEqualTo("group ns/g: the group's orphanPolicy");
  }

  @Test
  void nothingPublishedIsReport() {
    assertThat(ClusterView.published("ns/g", null)).satisfies(p -> {
      assertThat(p.orphanPolicy()).isEqualTo(OrphanPolicy.Report);
      assertThat(p.source()).contains("ns/g has no status.effectiveOrphanPolicy");
    });
    assertThat(ClusterView.published("ns/g", new EffectiveOrphanPolicy(null, "0s", "x")).orphanPolicy()).isEqualTo(OrphanPolicy.Report);
  }

  @Test
  void anUnreadableGracePeriodIsReport() {
    Policy p = ClusterView.published("ns/g", new EffectiveOrphanPolicy(OrphanPolicy.Delete, "soon", "x"));

    assertThat(p.orphanPolicy()).isEqualTo(OrphanPolicy.Report);
    assertThat(p.source()).contains("unreadable status.effectiveOrphanPolicy.gracePeriod 'soon'");
  }
}
