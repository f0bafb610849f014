package dev.sharedipc.operator.samenode;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What the SameNode planner remembers per group goes with the group. */
class ForgetDeletedGroupsTest {
  static final Instant NOW = Instant.parse("2026-11-28T00:00:00Z");

  @Test
  void theNodesToAvoidOfADeletedGroupAreForgotten() {
    AvoidList avoid = new AvoidList(Duration.ofMinutes(5));
    avoid.avoid("gone", "n1", NOW);
    avoid.avoid("live", "n2", NOW);

    avoid.forgetAllBut(Set.of("live"));

    assertThat(avoid.nodes("gone", NOW)).isEmpty();
    assertThat(avoid.nodes("live", NOW)).containsExactly("n2");
  }

  @Test
  void theRefusalsOfADeletedGroupAreForgotten() {
    SchedulerRefusals refusals = new SchedulerRefusals();
    for (int i = 0; i < SchedulerRefusals.MAX_REFUSED_PLACEMENTS; i++) {
      refusals.record("gone", 1, 0);
      refusals.record("live", 1, 0);
    }

    refusals.forgetAllBut(Set.of("live"));

    assertThat(refusals.exhausted("gone", 1, 0)).isFalse();
    assertThat(refusals.exhausted("live", 1, 0)).isTrue();
  }
}
