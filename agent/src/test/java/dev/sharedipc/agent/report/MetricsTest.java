package dev.sharedipc.agent.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.agent.attribution.Attribution;
import dev.sharedipc.agent.attribution.PodInfo;
import dev.sharedipc.agent.reap.Action;
import dev.sharedipc.agent.reap.Decision;
import dev.sharedipc.agent.scan.MessageQueue;
import dev.sharedipc.agent.scan.PosixQueue;
import dev.sharedipc.agent.scan.Segment;
import dev.sharedipc.agent.scan.SemaphoreSet;
import dev.sharedipc.agent.survey.Attributed;
import dev.sharedipc.agent.survey.Finding;
import dev.sharedipc.agent.survey.Findings;
import dev.sharedipc.agent.survey.IpcObjects;
import dev.sharedipc.agent.verdict.Judgement;
import dev.sharedipc.agent.verdict.Liveness;
import dev.sharedipc.agent.verdict.Policy;
import dev.sharedipc.agent.verdict.Verdict;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Removals by group stay bounded in the metrics and in the node report, and their total stays true.
 */
class MetricsTest {
  static Decision removed(String namespace, String group) {
    Finding f =
        new Finding(
            new Segment(
                4026532001L,
                0x1234,
                1,
                0600,
                4096,
                10,
                11,
                0,
                1000,
                1000,
                1000,
                1000,
                0,
                0,
                1_700_000_000L,
                4096,
                0),
            new Attribution(
                Attribution.Source.POD_NAMESPACE,
                "uid-1",
                new PodInfo("uid-1", namespace, group + "-0", group, 0),
                "ns"),
            new Liveness(false, false),
            Policy.UNKNOWN,
            new Judgement(Verdict.Remove, "orphaned past grace"));
    return new Decision(f, Action.Removed, "removed");
  }

  @Test
  void removalsOfMoreGroupsThanTheBoundKeepTheBoundInMetricsAndReport() {
    Metrics metrics = new Metrics();
    int groups = RemovalCounts.MAX_GROUPS + 10;
    for (int i = 0; i < groups; i++) {
      metrics.recordDecision(removed("team-" + i, "feed"));
    }
    metrics.recordDecision(removed("team-" + (groups - 1), "feed"));

    String scrape = metrics.scrape();
    Matcher series =
        Pattern.compile("(?m)^sharedipc_segments_removed_total\\{group=\"([^\"]+)\"} ([0-9.]+)$")
            .matcher(scrape);
    Map<String, Double> byLabel = new java.util.TreeMap<>();
    while (series.find()) {
      byLabel.put(series.group(1), Double.parseDouble(series.group(2)));
    }
    assertThat(byLabel)
        .hasSize(RemovalCounts.MAX_GROUPS + 1)
        .containsEntry(RemovalCounts.OTHER, 10.0)
        .containsEntry("team-" + (groups - 1) + "/feed", 2.0)
        .doesNotContainKey("team-0/feed");
    assertThat(byLabel.values().stream().mapToDouble(Double::doubleValue).sum())
        .isEqualTo(groups + 1);

    Findings none =
        new Findings(
            Instant.parse("2026-01-01T00:00:00Z"),
            Duration.ofMillis(5),
            List.of(),
            List.of(),
            List.of(),
            null,
            List.of(),
            0);
    SharedIpcNodeStatus status =
        new NodeStatusBuilder("t").build(none, List.of(), metrics.removedSegments());
    assertThat(status.getOrphansRemovedByGroup())
        .hasSize(RemovalCounts.MAX_GROUPS)
        .doesNotContainKey("team-0/feed")
        .allSatisfy((group, count) -> assertThat(group).contains("/"));
    assertThat(status.getOrphansRemovedInOtherGroups()).isEqualTo(10L);
  }

  @Test
  void semaphoreSetsAndQueuesAreGaugedByGroupWithBoundedSeries() {
    List<Attributed<SemaphoreSet>> sets = new java.util.ArrayList<>();
    int groups = Metrics.MAX_GROUP_SERIES + 5;
    for (int i = 0; i < groups; i++) {
      Attribution a =
          new Attribution(
              Attribution.Source.POD_NAMESPACE,
              "uid-" + i,
              new PodInfo("uid-" + i, "team-" + i, "p", "g", 0),
              "ns");
      // group i holds i+1 sets of 2 semaphores: the 5 smallest groups go under _other
      for (int k = 0; k <= i; k++) {
        sets.add(new Attributed<>(new SemaphoreSet(1, k, k, 0600, 2, 0, 0, 0, 0, 0, 1), a));
      }
    }
    sets.add(
        new Attributed<>(
            new SemaphoreSet(2, 9, 9, 0600, 1, 0, 0, 0, 0, 0, 1), Attribution.none("host")));
    Attribution g0 = sets.get(0).attribution();
    Findings f =
        new Findings(
            Instant.parse("2026-01-01T00:00:00Z"),
            Duration.ofMillis(5),
            List.of(),
            List.of(),
            List.of(),
            null,
            List.of(),
            0,
            new IpcObjects(
                sets,
                List.of(
                    new Attributed<>(
                        new MessageQueue(1, 1, 0, 0600, 4096, 3, 0, 0, 0, 0, 0, 0, 0, 0, 1), g0)),
                List.of(
                    new Attributed<>(new PosixQueue(1, "/q", 0, 0, 0100600, 10, 1, 1, "/x"), g0)),
                Map.of(2L, "unknown")));

    Metrics metrics = new Metrics();
    metrics.recordScan(f);
    String scrape = metrics.scrape();

    Matcher series =
        Pattern.compile("(?m)^sharedipc_semaphore_sets\\{group=\"([^\"]+)\"} ([0-9.]+)$")
            .matcher(scrape);
    Map<String, Double> byLabel = new java.util.TreeMap<>();
    while (series.find()) {
      byLabel.put(series.group(1), Double.parseDouble(series.group(2)));
    }
    assertThat(byLabel)
        .hasSize(
            Metrics.MAX_GROUP_SERIES + 1) // the 50 largest groups, then _other (the rest and _none)
        .containsEntry("team-" + (groups - 1) + "/g", (double) groups)
        .containsKey(RemovalCounts.OTHER)
        .doesNotContainKey("team-0/g");
    assertThat(byLabel.values().stream().mapToDouble(Double::doubleValue).sum())
        .as("no set is lost")
        .isEqualTo(sets.size());
    assertThat(scrape)
        .contains("sharedipc_semaphores{group=\"team-" + (groups - 1) + "/g\"} " + (2.0 * groups));
    assertThat(scrape)
        .contains(
            "sharedipc_message_queues{group=\"team-0/g\",kind=\"sysv\"} 1.0",
            "sharedipc_message_queue_bytes{group=\"team-0/g\",kind=\"sysv\"} 4096.0",
            "sharedipc_message_queues{group=\"team-0/g\",kind=\"posix\"} 1.0",
            "sharedipc_posix_message_queues_unknown_namespaces 1.0");
  }

  @Test
  void informersShowWhetherTheyHaveSynced() {
    Metrics metrics = new Metrics();
    metrics.informersSynced(() -> Map.of("pods", true, "groups", false));

    assertThat(metrics.scrape())
        .contains(
            "sharedipc_informer_synced{informer=\"pods\"} 1.0",
            "sharedipc_informer_synced{informer=\"groups\"} 0.0");
  }

  @Test
  void posixObjectGaugesKeepTheBoundByGroupAndSumTheRest() {
    Metrics metrics = new Metrics();
    var shm =
        new dev.sharedipc.agent.scan.MemoryVolume(
            dev.sharedipc.agent.scan.MemoryVolume.Kind.DevShm, "dev-shm", "/x", "u", 1, 1);
    List<dev.sharedipc.agent.survey.PosixObjectFinding> objects = new java.util.ArrayList<>();
    int groups = Metrics.POSIX_GROUPS + 3;
    for (int i = 0; i < groups; i++) {
      // group i holds (i + 1) KiB: the three smallest go to _other
      PodInfo pod = new PodInfo("u" + i, "ns", "p" + i, "g" + i, 0);
      objects.add(
          NodeStatusBuilderTest.posixObject(
              shm,
              pod,
              "f" + i,
              1024L * (i + 1),
              dev.sharedipc.agent.verdict.PosixObjectVerdict.KeptByPolicy));
    }
    metrics.recordPosix(new dev.sharedipc.agent.survey.PosixFindings(List.of(), objects, null));

    String scrape = metrics.scrape();
    Matcher m =
        Pattern.compile("(?m)^sharedipc_posix_objects\\{group=\"([^\"]*)\",orphan=\"true\"} ")
            .matcher(scrape);
    int series = 0;
    while (m.find()) {
      series++;
    }
    assertThat(series).isEqualTo(Metrics.POSIX_GROUPS + 1);
    assertThat(scrape).contains("sharedipc_posix_objects{group=\"_other\",orphan=\"true\"} 3.0");
    assertThat(scrape)
        .contains("sharedipc_posix_object_bytes{group=\"_other\",orphan=\"true\"} 6144.0");
    assertThat(scrape)
        .contains(
            "sharedipc_posix_object_bytes{group=\"ns/g"
                + (groups - 1)
                + "\",orphan=\"true\"} "
                + 1024.0 * groups);
  }
}
