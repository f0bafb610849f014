package dev.sharedipc.operator.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;

class RolloutGuardTest {
  private final RolloutGuard guard = new RolloutGuard();

  private static Pod pod(String uid, boolean terminating) {
    return new PodBuilder()
        .withNewMetadata()
        .withName("p-" + uid)
        .withUid(uid)
        .withDeletionTimestamp(terminating ? "2026-11-28T00:00:00Z" : null)
        .endMetadata()
        .build();
  }

  @Test
  void aGroupWithoutAStepOrWhoseStepRemovedNothingMayStep() {
    assertThat(guard.lastStepSeen("g", List.of(pod("a", false)))).isTrue();
    guard.removed("g", List.of());
    assertThat(guard.lastStepSeen("g", List.of(pod("a", false))))
        .as("a step that removed nothing")
        .isTrue();
  }

  @Test
  void theNextStepWaitsUntilEveryRemovedPodIsShownTerminatingOrGone() {
    guard.removed("g", List.of("a", "b"));
    assertThat(guard.lastStepSeen("g", List.of(pod("a", false), pod("b", false), pod("c", false))))
        .as("the view from before the step")
        .isFalse();
    assertThat(guard.lastStepSeen("g", List.of(pod("a", true), pod("b", false), pod("c", false))))
        .as("one of the two still shown working")
        .isFalse();
    assertThat(guard.lastStepSeen("other", List.of(pod("a", false), pod("b", false))))
        .as("another group")
        .isTrue();
    assertThat(guard.lastStepSeen("g", List.of(pod("a", true), pod("c", false))))
        .as("one terminating, one gone")
        .isTrue();
    assertThat(guard.lastStepSeen("g", List.of(pod("a", false), pod("b", false))))
        .as("once seen, forgotten")
        .isTrue();
  }

  @Test
  void aDeletedGroupIsForgotten() {
    guard.removed("gone", List.of("a"));
    guard.removed("live", List.of("b"));

    guard.forgetAllBut(java.util.Set.of("live"));

    assertThat(guard.lastStepSeen("gone", List.of(pod("a", false))))
        .as("nothing is remembered of a group that is gone")
        .isTrue();
    assertThat(guard.lastStepSeen("live", List.of(pod("b", false))))
        .as("a live group's last step is still awaited")
        .isFalse();
  }
}
