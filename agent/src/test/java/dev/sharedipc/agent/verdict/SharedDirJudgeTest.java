package dev.sharedipc.agent.verdict;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.agent.attribution.NodePod;
import dev.sharedipc.agent.verdict.SharedDirJudge.Dir;
import dev.sharedipc.api.Labels;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The shared-directory decision table: each rule, once holding and once not, and which one wins.
 */
class SharedDirJudgeTest {
  static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");
  static final Dir DIR = Dir.named("team_g_1", null);
  static final Instant LONG_AGO = NOW.minus(Duration.ofHours(1));
  static final Duration GRACE = Duration.ofMinutes(5);

  static NodePod pod(String ns, String group, String instance, String phase) {
    return new NodePod(
        ns,
        "p-" + group + "-" + instance,
        Map.of(Labels.GROUP, group, Labels.INSTANCE, instance),
        phase);
  }

  static SharedDirVerdict judge(
      Dir dir, List<NodePod> pods, Instant absentSince, Duration grace, Set<Integer> users) {
    return SharedDirJudge.judge(dir, pods, absentSince, grace, users, NOW).verdict();
  }

  @Test
  void instanceGoneLongerThanGraceAndUnusedIsRemoved() {
    SharedDirJudgement j = SharedDirJudge.judge(DIR, List.of(), LONG_AGO, GRACE, Set.of(), NOW);
    assertThat(j.verdict()).isEqualTo(SharedDirVerdict.Remove);
    assertThat(j.reason()).contains("1h").contains("group team/g");
  }

  @Test
  void unsafeDirectoryIsKeptWhateverElseHolds() {
    assertThat(
            judge(
                Dir.named("team_g_1", "is a symbolic link (to /etc), never followed"),
                List.of(),
                LONG_AGO,
                GRACE,
                Set.of()))
        .isEqualTo(SharedDirVerdict.Unsafe);
    assertThat(judge(Dir.named("team_g_1", null), List.of(), LONG_AGO, GRACE, Set.of()))
        .isEqualTo(SharedDirVerdict.Remove);
  }

  @Test
  void unparseableNameIsNeverRemoved() {
    assertThat(judge(Dir.named("team_g_01", null), List.of(), LONG_AGO, GRACE, Set.of()))
        .isEqualTo(SharedDirVerdict.Unattributed);
    assertThat(judge(Dir.named("scratch", null), List.of(), LONG_AGO, GRACE, Set.of()))
        .isEqualTo(SharedDirVerdict.Unattributed);
    assertThat(judge(Dir.named("team_g_1", null), List.of(), LONG_AGO, GRACE, Set.of()))
        .isEqualTo(SharedDirVerdict.Remove);
  }

  @Test
  void unknownPodsKeepIt() {
    assertThat(judge(DIR, null, LONG_AGO, GRACE, Set.of()))
        .isEqualTo(SharedDirVerdict.ClusterUnknown);
    assertThat(judge(DIR, List.of(), LONG_AGO, GRACE, Set.of())).isEqualTo(SharedDirVerdict.Remove);
  }

  @Test
  void aPodOfTheInstanceInAnyLivePhaseKeepsIt() {
    for (String phase : new String[] {"Pending", "Running", "Unknown", null}) {
      assertThat(judge(DIR, List.of(pod("team", "g", "1", phase)), LONG_AGO, GRACE, Set.of()))
          .as(String.valueOf(phase))
          .isEqualTo(SharedDirVerdict.InstancePresent);
    }
  }

  @Test
  void finishedPodsAndPodsOfOtherInstancesDoNotKeepIt() {
    List<NodePod> others =
        List.of(
            pod("team", "g", "1", "Succeeded"),
            pod("team", "g", "1", "Failed"),
            pod("team", "g", "2", "Running"),
            pod("other", "g", "1", "Running"),
            pod("team", "h", "1", "Running"),
            pod("team", "g", "01", "Running"),
            new NodePod("team", "unlabelled", null, "Running"));
    assertThat(judge(DIR, others, LONG_AGO, GRACE, Set.of())).isEqualTo(SharedDirVerdict.Remove);
  }

  static final String OLD_UID = "11111111-2222-4333-8444-555555555555";
  static final String NEW_UID = "66666666-7777-4888-9999-aaaaaaaaaaaa";

  static NodePod podOfGroup(String uid) {
    return new NodePod(
        "team", "g-1-w", Map.of(Labels.GROUP, "g", Labels.INSTANCE, "1"), "Running", uid, null);
  }

  @Test
  void aGroupCreatedAgainUnderTheSameNameDoesNotKeepTheOldGroupsDirectory() {
    Dir old = Dir.named("team_g_" + OLD_UID + "_1", null);
    assertThat(judge(old, List.of(podOfGroup(NEW_UID)), LONG_AGO, GRACE, Set.of()))
        .isEqualTo(SharedDirVerdict.Remove);
    assertThat(judge(old, List.of(podOfGroup(OLD_UID)), LONG_AGO, GRACE, Set.of()))
        .isEqualTo(SharedDirVerdict.InstancePresent);
    assertThat(judge(old, List.of(podOfGroup(null)), LONG_AGO, GRACE, Set.of()))
        .as("owner unknown: doubt keeps it")
        .isEqualTo(SharedDirVerdict.InstancePresent);
  }

  @Test
  void aDirectoryInTheOldNameFormIsKeptByAnyPodOfItsGroupAndInstance() {
    Dir oldForm = Dir.named("team_g_1", null);
    assertThat(judge(oldForm, List.of(podOfGroup(NEW_UID)), LONG_AGO, GRACE, Set.of()))
        .isEqualTo(SharedDirVerdict.InstancePresent);
    assertThat(judge(oldForm, List.of(), LONG_AGO, GRACE, Set.of()))
        .isEqualTo(SharedDirVerdict.Remove);
  }

  static NodePod mounting(String directory) {
    return new NodePod(
        "team",
        "g-1-w",
        Map.of(Labels.GROUP, "g", Labels.INSTANCE, "1"),
        "Running",
        NEW_UID,
        Set.of(directory));
  }

  @Test
  void whenAPodsVolumesAreKnownOnlyThePodThatMountsADirectoryKeepsIt() {
    Dir oldForm = Dir.named("team_g_1", null);
    Dir current = Dir.named("team_g_" + NEW_UID + "_1", null);
    // Members replaced by the newer operator mount the uid-named directory: the old one is left to
    // go.
    assertThat(
            judge(
                oldForm, List.of(mounting("team_g_" + NEW_UID + "_1")), LONG_AGO, GRACE, Set.of()))
        .isEqualTo(SharedDirVerdict.Remove);
    assertThat(
            judge(
                current, List.of(mounting("team_g_" + NEW_UID + "_1")), LONG_AGO, GRACE, Set.of()))
        .isEqualTo(SharedDirVerdict.InstancePresent);
    // A member still made by the old operator mounts the old name and keeps it.
    assertThat(judge(oldForm, List.of(mounting("team_g_1")), LONG_AGO, GRACE, Set.of()))
        .isEqualTo(SharedDirVerdict.InstancePresent);
  }

  @Test
  void goneForLessThanTheGracePeriodIsKept() {
    assertThat(judge(DIR, List.of(), NOW.minus(GRACE), GRACE, Set.of()))
        .isEqualTo(SharedDirVerdict.WithinGrace);
    assertThat(judge(DIR, List.of(), NOW.minus(GRACE).minusSeconds(1), GRACE, Set.of()))
        .isEqualTo(SharedDirVerdict.Remove);
    assertThat(judge(DIR, List.of(), null, GRACE, Set.of()))
        .isEqualTo(SharedDirVerdict.WithinGrace);
    assertThat(judge(DIR, List.of(), NOW.plusSeconds(60), Duration.ZERO, Set.of()))
        .isEqualTo(SharedDirVerdict.WithinGrace);
  }

  @Test
  void unknownGraceMeansTenMinutes() {
    assertThat(judge(DIR, List.of(), NOW.minus(Duration.ofMinutes(9)), null, Set.of()))
        .isEqualTo(SharedDirVerdict.WithinGrace);
    assertThat(judge(DIR, List.of(), NOW.minus(Duration.ofMinutes(11)), null, Set.of()))
        .isEqualTo(SharedDirVerdict.Remove);
    assertThat(
            SharedDirJudge.judge(
                    DIR, List.of(), NOW.minus(Duration.ofMinutes(9)), null, Set.of(), NOW)
                .reason())
        .contains("(default)");
  }

  @Test
  void aProcessWithAFileOpenOrMappedKeepsIt() {
    SharedDirJudgement j = SharedDirJudge.judge(DIR, List.of(), LONG_AGO, GRACE, Set.of(4242), NOW);
    assertThat(j.verdict()).isEqualTo(SharedDirVerdict.InUse);
    assertThat(j.reason()).contains("4242");
    assertThat(judge(DIR, List.of(), LONG_AGO, GRACE, Set.of())).isEqualTo(SharedDirVerdict.Remove);
  }

  @Test
  void unknownUsersKeepIt() {
    assertThat(judge(DIR, List.of(), LONG_AGO, GRACE, null))
        .isEqualTo(SharedDirVerdict.UsersUnknown);
    assertThat(judge(DIR, List.of(), LONG_AGO, GRACE, Set.of())).isEqualTo(SharedDirVerdict.Remove);
  }

  @Test
  void earlierRulesDecideBeforeUsersAreNeeded() {
    // so the reaper scans /proc only for directories that reach UsersUnknown
    assertThat(judge(DIR, List.of(pod("team", "g", "1", "Running")), LONG_AGO, GRACE, null))
        .isEqualTo(SharedDirVerdict.InstancePresent);
    assertThat(judge(DIR, List.of(), NOW, GRACE, null)).isEqualTo(SharedDirVerdict.WithinGrace);
    assertThat(judge(DIR, null, LONG_AGO, GRACE, null)).isEqualTo(SharedDirVerdict.ClusterUnknown);
  }
}
