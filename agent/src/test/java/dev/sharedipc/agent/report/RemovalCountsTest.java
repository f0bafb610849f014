package dev.sharedipc.agent.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class RemovalCountsTest {
  @Test
  void atTheLimitEveryGroupHasItsOwnCount() {
    RemovalCounts counts = new RemovalCounts();
    for (int i = 0; i < RemovalCounts.MAX_GROUPS; i++) {
      counts.add("ns/g" + i);
    }

    assertThat(counts.byGroup()).hasSize(RemovalCounts.MAX_GROUPS).containsEntry("ns/g0", 1L);
    assertThat(counts.other()).isZero();
  }

  @Test
  void aGroupCreatedAgainUnderTheSameNameStartsAtZeroByUidAndSumsByName() {
    RemovalCounts counts = new RemovalCounts();
    counts.add("ns/g", "uid-before");
    counts.add("ns/g", "uid-before");
    counts.add("ns/g", "uid-now");
    counts.add("ns/g"); // a ledger entry of an agent before group UIDs

    assertThat(counts.byGroup()).isEqualTo(Map.of("ns/g", 4L));
    assertThat(counts.byGroupUid()).isEqualTo(Map.of("uid-before", 2L, "uid-now", 1L));
    assertThat(counts.other()).isZero();
  }

  @Test
  void pastTheLimitTheGroupWithTheOldestRemovalMovesToOther() {
    RemovalCounts counts = new RemovalCounts(3);
    counts.add("ns/a");
    counts.add("ns/a");
    counts.add("ns/b");
    counts.add("ns/c");
    counts.add("ns/a"); // a is now the latest, b the oldest

    counts.add("ns/d");

    assertThat(counts.byGroup()).isEqualTo(Map.of("ns/a", 3L, "ns/c", 1L, "ns/d", 1L));
    assertThat(counts.other()).isEqualTo(1);
  }

  @Test
  void thousandsOfGroupsKeepTheBoundAndTheTotal() {
    RemovalCounts counts = new RemovalCounts();
    for (int i = 0; i < 20_000; i++) {
      counts.add("ns-" + i + "/group");
    }
    counts.add(null);

    assertThat(counts.byGroup())
        .hasSize(RemovalCounts.MAX_GROUPS)
        .containsKey("ns-19999/group")
        .doesNotContainKey("ns-0/group");
    assertThat(counts.byGroup().values().stream().mapToLong(Long::longValue).sum() + counts.other())
        .isEqualTo(20_001);
  }
}
