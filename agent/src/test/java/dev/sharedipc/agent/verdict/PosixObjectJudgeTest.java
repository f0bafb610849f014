package dev.sharedipc.agent.verdict;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.agent.scan.PosixObject.FileKind;
import dev.sharedipc.agent.verdict.PosixObjectJudge.Observed;
import dev.sharedipc.api.v1alpha1.OrphanPolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The POSIX object decision table: each rule, once holding and once not, and which one wins. */
class PosixObjectJudgeTest {
  static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");
  static final long HOUR_AGO = NOW.minus(Duration.ofHours(1)).getEpochSecond();
  static final long JUST_NOW = NOW.minusSeconds(5).getEpochSecond();
  static final Policy DELETE =
      new Policy(OrphanPolicy.Delete, Duration.ofMinutes(5), "group team/g");
  static final Policy REPORT =
      new Policy(OrphanPolicy.Report, Duration.ofMinutes(5), "group team/g");

  static Observed file(FileKind kind, boolean hostShm, int pods, long mtime) {
    return new Observed(
        "/var/lib/kubelet/pods/u/volumes/kubernetes.io~empty-dir/shm/nccl-1",
        kind,
        hostShm,
        pods,
        mtime);
  }

  static Observed orphan() {
    return file(FileKind.Regular, false, 1, HOUR_AGO);
  }

  /**
   * One row: what was observed, and the verdict. Each rule appears where it wins and where it does
   * not apply.
   */
  static Stream<Arguments> table() {
    return Stream.of(
        Arguments.of(
            "idle orphan past grace under Delete",
            orphan(),
            Set.of(),
            DELETE,
            false,
            PosixObjectVerdict.Remove),
        Arguments.of(
            "host /dev/shm, whatever else holds",
            file(FileKind.Regular, true, 1, HOUR_AGO),
            Set.of(),
            DELETE,
            true,
            PosixObjectVerdict.Host),
        Arguments.of(
            "symbolic link",
            file(FileKind.SymbolicLink, false, 1, HOUR_AGO),
            Set.of(),
            DELETE,
            true,
            PosixObjectVerdict.NotRegular),
        Arguments.of(
            "directory",
            file(FileKind.Directory, false, 1, HOUR_AGO),
            Set.of(),
            DELETE,
            false,
            PosixObjectVerdict.NotRegular),
        Arguments.of(
            "device or socket",
            file(FileKind.Other, false, 1, HOUR_AGO),
            Set.of(),
            DELETE,
            false,
            PosixObjectVerdict.NotRegular),
        Arguments.of(
            "volume of no known pod",
            file(FileKind.Regular, false, 0, HOUR_AGO),
            Set.of(),
            DELETE,
            true,
            PosixObjectVerdict.Unattributed),
        Arguments.of(
            "volume shared by two pods",
            file(FileKind.Regular, false, 2, HOUR_AGO),
            Set.of(),
            DELETE,
            false,
            PosixObjectVerdict.Unattributed),
        Arguments.of(
            "users not known", orphan(), null, DELETE, true, PosixObjectVerdict.UsersUnknown),
        Arguments.of(
            "open or mapped, even in back-off",
            orphan(),
            Set.of(42),
            DELETE,
            true,
            PosixObjectVerdict.InUse),
        Arguments.of(
            "Report keeps an idle orphan",
            orphan(),
            Set.of(),
            REPORT,
            false,
            PosixObjectVerdict.KeptByPolicy),
        Arguments.of(
            "Report keeps it in back-off too (the guard only reports)",
            orphan(),
            Set.of(),
            REPORT,
            true,
            PosixObjectVerdict.KeptByPolicy),
        Arguments.of(
            "no policy known is Report",
            orphan(),
            Set.of(),
            Policy.UNKNOWN,
            true,
            PosixObjectVerdict.KeptByPolicy),
        Arguments.of(
            "modified just now",
            file(FileKind.Regular, false, 1, JUST_NOW),
            Set.of(),
            DELETE,
            false,
            PosixObjectVerdict.WithinGrace),
        Arguments.of(
            "crash-loop guard: just written, pod in back-off, Delete",
            file(FileKind.Regular, false, 1, JUST_NOW),
            Set.of(),
            DELETE,
            true,
            PosixObjectVerdict.Remove),
        Arguments.of(
            "mtime in the future counts as just now",
            file(FileKind.Regular, false, 1, NOW.plusSeconds(60).getEpochSecond()),
            Set.of(),
            DELETE,
            false,
            PosixObjectVerdict.WithinGrace));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("table")
  void verdictTable(
      String name,
      Observed object,
      Set<Integer> users,
      Policy policy,
      boolean backOff,
      PosixObjectVerdict expected) {
    assertThat(PosixObjectJudge.judge(object, users, policy, backOff, NOW).verdict())
        .as(name)
        .isEqualTo(expected);
  }

  @Test
  void reasonsNameWhatDecided() {
    assertThat(PosixObjectJudge.judge(orphan(), Set.of(7, 3), DELETE, false, NOW).reason())
        .contains("pid(s) [3, 7]");
    assertThat(PosixObjectJudge.judge(orphan(), Set.of(), DELETE, false, NOW).reason())
        .contains("1h")
        .contains("grace period 5m")
        .contains("group team/g");
    assertThat(PosixObjectJudge.judge(orphan(), Set.of(), DELETE, true, NOW).reason())
        .contains("crash-loop guard");
  }

  @Test
  void onlyUnusedObjectsAreOrphans() {
    assertThat(PosixObjectJudge.judge(orphan(), Set.of(1), DELETE, false, NOW).orphan()).isFalse();
    assertThat(PosixObjectJudge.judge(orphan(), Set.of(), REPORT, false, NOW).orphan()).isTrue();
    assertThat(PosixObjectJudge.judge(orphan(), null, DELETE, false, NOW).orphan()).isFalse();
  }
}
