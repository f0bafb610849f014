package dev.sharedipc.agent.verdict;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.agent.attribution.Attribution;
import dev.sharedipc.agent.attribution.PodInfo;
import dev.sharedipc.agent.scan.Segment;
import dev.sharedipc.api.v1alpha1.OrphanPolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The verdict table: every safety rule (README.md, "Safety rules"), and which one wins when several
 * apply.
 */
class OrphanJudgeTest {
  static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");
  static final long HOUR_AGO = NOW.getEpochSecond() - 3600;
  static final long MINUTE_AGO = NOW.getEpochSecond() - 60;
  static final PodInfo POD = new PodInfo("uid-1", "team", "writer-0", "g", 0);
  static final Attribution POD_NS =
      new Attribution(Attribution.Source.POD_NAMESPACE, "uid-1", POD, "namespace of pod uid-1");
  static final Attribution LEDGER =
      new Attribution(Attribution.Source.LEDGER, "uid-1", POD, "ledger");
  static final Attribution LIVE_CREATOR =
      new Attribution(Attribution.Source.LIVE_CREATOR, "uid-1", POD, "creator");
  static final Attribution NONE = Attribution.none("no pod");
  static final Attribution AMBIGUOUS =
      Attribution.ambiguous("processes of 2 pods share this namespace");
  static final Policy DELETE_10M =
      new Policy(OrphanPolicy.Delete, Duration.ofMinutes(10), "group team/g");
  static final Policy REPORT_10M =
      new Policy(OrphanPolicy.Report, Duration.ofMinutes(10), "group team/g");
  static final Policy DELETE_0 = new Policy(OrphanPolicy.Delete, Duration.ZERO, "cli");
  static final Liveness GONE = new Liveness(false, false);

  static Segment seg(int mode, long nattch, int cpid, long atime, long dtime, long ctime) {
    return new Segment(
        4026532001L,
        0x1234,
        7,
        mode,
        4096,
        cpid,
        99,
        nattch,
        0,
        0,
        0,
        0,
        atime,
        dtime,
        ctime,
        4096,
        0);
  }

  static Segment idle(long since) {
    return seg(0600, 0, 42, since, since, since - 10);
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of(
            "orphan past grace under Delete is removed",
            idle(HOUR_AGO),
            GONE,
            POD_NS,
            DELETE_10M,
            Verdict.Remove),
        Arguments.of(
            "same orphan under Report is kept and reported",
            idle(HOUR_AGO),
            GONE,
            POD_NS,
            REPORT_10M,
            Verdict.Orphaned),
        Arguments.of(
            "no policy known means Report",
            idle(HOUR_AGO),
            GONE,
            POD_NS,
            Policy.UNKNOWN,
            Verdict.Orphaned),
        Arguments.of(
            "attached is in use even under Delete",
            seg(0600, 1, 42, HOUR_AGO, 0, HOUR_AGO),
            GONE,
            POD_NS,
            DELETE_0,
            Verdict.InUse),
        Arguments.of(
            "attached wins over everything else",
            seg(0600, 3, 0, 0, 0, 0),
            GONE,
            NONE,
            DELETE_0,
            Verdict.InUse),
        Arguments.of(
            "marked for removal needs nothing",
            seg(01600, 1, 42, 0, 0, HOUR_AGO),
            GONE,
            POD_NS,
            DELETE_0,
            Verdict.MarkedForRemoval),
        Arguments.of(
            "creator alive keeps it",
            idle(HOUR_AGO),
            new Liveness(true, false),
            POD_NS,
            DELETE_0,
            Verdict.OwnerAlive),
        Arguments.of(
            "last operator alive keeps it",
            idle(HOUR_AGO),
            new Liveness(false, true),
            POD_NS,
            DELETE_0,
            Verdict.OwnerAlive),
        Arguments.of(
            "unknown creator pid is ambiguous",
            seg(0600, 0, 0, 0, 0, HOUR_AGO),
            GONE,
            POD_NS,
            DELETE_0,
            Verdict.Ambiguous),
        Arguments.of(
            "unattributed is never removed",
            idle(HOUR_AGO),
            GONE,
            NONE,
            DELETE_0,
            Verdict.Unattributed),
        Arguments.of(
            "several pods is ambiguous, kept",
            idle(HOUR_AGO),
            GONE,
            AMBIGUOUS,
            DELETE_0,
            Verdict.Ambiguous),
        Arguments.of(
            "detached a minute ago is within a 10m grace",
            idle(MINUTE_AGO),
            GONE,
            POD_NS,
            DELETE_10M,
            Verdict.WithinGrace),
        Arguments.of(
            "created a minute ago, never attached, is within grace",
            seg(0600, 0, 42, 0, 0, MINUTE_AGO),
            GONE,
            POD_NS,
            DELETE_10M,
            Verdict.WithinGrace),
        Arguments.of(
            "old ctime but recent attach restarts the grace period",
            seg(0600, 0, 42, MINUTE_AGO, MINUTE_AGO, HOUR_AGO),
            GONE,
            POD_NS,
            DELETE_10M,
            Verdict.WithinGrace),
        Arguments.of(
            "times in the future (clock skew) count as within grace",
            idle(NOW.getEpochSecond() + 600),
            GONE,
            POD_NS,
            DELETE_0,
            Verdict.WithinGrace),
        Arguments.of(
            "exactly at the grace period counts as past it",
            idle(NOW.getEpochSecond() - 600),
            GONE,
            POD_NS,
            DELETE_10M,
            Verdict.Remove),
        Arguments.of(
            "zero grace removes at once",
            idle(NOW.getEpochSecond()),
            GONE,
            POD_NS,
            DELETE_0,
            Verdict.Remove),
        Arguments.of(
            "host segment from the ledger may be removed",
            idle(HOUR_AGO),
            GONE,
            LEDGER,
            DELETE_10M,
            Verdict.Remove),
        Arguments.of(
            "live-creator attribution with creator alive is kept",
            idle(HOUR_AGO),
            new Liveness(true, false),
            LIVE_CREATOR,
            DELETE_0,
            Verdict.OwnerAlive));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void verdictTable(
      String name, Segment s, Liveness live, Attribution a, Policy p, Verdict expected) {
    Judgement j = OrphanJudge.judge(s, live, a, p, NOW);
    assertThat(j.verdict()).as(name + ": " + j.reason()).isEqualTo(expected);
    assertThat(j.reason()).isNotBlank();
  }

  @org.junit.jupiter.api.Test
  void reasonsSayWhyInASentence() {
    assertThat(OrphanJudge.judge(idle(HOUR_AGO), GONE, POD_NS, DELETE_10M, NOW).reason())
        .isEqualTo(
            "orphaned: unattached for 1h, creator and last operator gone; policy Delete (group team/g)");
    assertThat(OrphanJudge.judge(idle(MINUTE_AGO), GONE, POD_NS, DELETE_10M, NOW).reason())
        .isEqualTo("unattached for 1m, grace period 10m (group team/g)");
  }
}
