package dev.sharedipc.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConditionSetTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final Instant T1 = Instant.parse("2026-01-01T01:00:00Z");

  @Test
  void everyTypeIsPresentInDeclaredOrderAndUnsetOnesAreUnknown() {
    List<Condition> list =
        new ConditionSet(List.of(), 1, T0).set(ConditionType.Placed, true, "R", "m").toList();
    assertThat(list)
        .extracting(Condition::getType)
        .containsExactly("Ready", "Placed", "MemoryAccounted", "WithinQuota", "PolicyCompliant");
    assertThat(list.get(0).getStatus()).isEqualTo("Unknown");
    assertThat(list.get(1).getObservedGeneration()).isEqualTo(1L);
  }

  @Test
  void transitionTimeIsKeptWhileStatusStaysAndMovesWhenItChanges() {
    List<Condition> first =
        new ConditionSet(List.of(), 1, T0).set(ConditionType.Ready, false, "A", "one").toList();
    List<Condition> same =
        new ConditionSet(first, 2, T1).set(ConditionType.Ready, false, "B", "two").toList();
    assertThat(same.get(0).getLastTransitionTime()).isEqualTo(T0.toString());
    assertThat(same.get(0).getReason()).isEqualTo("B");
    assertThat(same.get(0).getObservedGeneration()).isEqualTo(2L);
    List<Condition> flipped =
        new ConditionSet(same, 2, T1).set(ConditionType.Ready, true, "C", "three").toList();
    assertThat(flipped.get(0).getLastTransitionTime()).isEqualTo(T1.toString());
  }
}
