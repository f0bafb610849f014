package dev.sharedipc.operator.usage;

import static dev.sharedipc.operator.Fixtures.group;
import static dev.sharedipc.operator.Fixtures.member;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.api.ReportCadence;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcNode;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class NodeUsageTest {
  private static final Instant NOW = Instant.parse("2026-11-27T12:00:00Z");
  private static final Instant FRESH = NOW.minusSeconds(30);

  static SharedIpcNodeStatus.NamespaceReport ns(
      String podNs, String group, Integer instance, long segments, long bytes) {
    SharedIpcNodeStatus.NamespaceReport r = new SharedIpcNodeStatus.NamespaceReport();
    r.podNamespace = podNs;
    r.group = group;
    r.instance = instance;
    r.segments = segments;
    r.bytes = bytes;
    r.rssBytes = bytes / 2;
    r.orphans = 0L;
    return r;
  }

  static SharedIpcNode node(String name, List<SharedIpcNodeStatus.NamespaceReport> namespaces) {
    return node(name, FRESH, namespaces);
  }

  static SharedIpcNode node(
      String name, Instant lastScan, List<SharedIpcNodeStatus.NamespaceReport> namespaces) {
    SharedIpcNode node = new SharedIpcNode();
    node.getMetadata().setName(name);
    SharedIpcNodeStatus status = new SharedIpcNodeStatus();
    status.setLastScanTime(lastScan == null ? null : lastScan.toString());
    status.setIpcNamespaces(namespaces);
    node.setStatus(status);
    return node;
  }

  static Pod pod(String name, String uid, int instance, String nodeName) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withUid(uid)
        .addToLabels("sharedipc.dev/instance", Integer.toString(instance))
        .endMetadata()
        .withNewSpec()
        .withNodeName(nodeName)
        .endSpec()
        .build();
  }

  /** Usage with every reporting node still present. */
  private static NodeUsage.GroupUsage usage(
      SharedIpcGroup g, List<SharedIpcNode> reports, List<Pod> pods) {
    Set<String> nodes =
        reports.stream().map(r -> r.getMetadata().getName()).collect(Collectors.toSet());
    return new NodeUsage().of(g, reports, pods, nodes, NOW);
  }

  @Test
  void sumsSemaphoreSetsAndQueuesPerInstanceFromTheSameEntries() {
    SharedIpcGroup g = group("md", 2, "64Mi", member("w", null, null));
    SharedIpcNodeStatus.NamespaceReport a0 = ns("ns", "md", 0, 1, 10);
    a0.semaphoreSets = 2L;
    a0.semaphores = 5L;
    a0.messageQueues = 1L;
    a0.queuedBytes = 100L;
    a0.posixMessageQueues = 3L;
    a0.posixQueuedBytes = 30L;
    SharedIpcNodeStatus.NamespaceReport b0 = ns("ns", "md", 0, 0, 0);
    b0.semaphoreSets = 1L;
    b0.semaphores = 1L; // an older agent's entry without queue counts counts as zero queues
    SharedIpcNodeStatus.NamespaceReport other = ns("ns", "x", 0, 0, 0);
    other.semaphoreSets = 40L;

    NodeUsage.GroupUsage usage =
        usage(g, List.of(node("a", List.of(a0, other)), node("b", List.of(b0))), List.of());

    assertThat(usage.ipcObjectsByInstance()).containsOnlyKeys(0);
    assertThat(usage.ipcObjectsByInstance().get(0))
        .isEqualTo(new dev.sharedipc.api.v1alpha1.IpcObjectUsage(3, 6, 1, 100, 3, 30));
    assertThat(usage.ipcObjectsByInstance().get(0).allMessageQueues()).isEqualTo(4);
  }

  @Test
  void sumsOnlyTheGroupsOwnNamespacesPerInstanceAcrossNodes() {
    SharedIpcGroup g = group("md", 2, "64Mi", member("w", null, null));
    SharedIpcNodeStatus.VolumeReport volume = new SharedIpcNodeStatus.VolumeReport();
    volume.podNamespace = "ns";
    volume.group = "md";
    volume.instance = 1;
    volume.usedBytes = 4096L;
    SharedIpcNode a =
        node(
            "a",
            List.of(
                ns("ns", "md", 0, 2, 200), ns("other", "md", 0, 50, 5000), ns("ns", "x", 0, 9, 9)));
    a.getStatus().setMemoryVolumes(List.of(volume));
    a.getStatus().setOrphansRemovedByGroup(Map.of("ns/md", 3L, "ns/x", 7L));
    SharedIpcNode b = node("b", List.of(ns("ns", "md", 1, 1, 100), ns("ns", "md", 0, 1, 10)));

    NodeUsage.GroupUsage usage = usage(g, List.of(a, b), List.of());
    assertThat(usage.segmentsByInstance().get(0).getCount()).isEqualTo(3);
    assertThat(usage.segmentsByInstance().get(0).getBytes()).isEqualTo(210);
    assertThat(usage.segmentsByInstance().get(1).getCount()).isEqualTo(1);
    assertThat(usage.sharedMemoryUsedByInstance()).containsExactly(Map.entry(1, 4096L));
    assertThat(usage.orphansRemoved()).isEqualTo(3);
    assertThat(usage.ignored()).isEmpty();
    assertThat(usage.staleAt()).contains(FRESH.plus(NodeUsage.DEFAULT_MAX_REPORT_AGE));
    assertThat(NodeUsage.groupsIn(a)).containsExactlyInAnyOrder("ns/md", "other/md", "ns/x");
  }

  @Test
  void entriesWithAGroupUidCountOnlyForTheGroupOfThatUidAndOthersByName() {
    SharedIpcGroup g = group("md", 1, "64Mi", member("w", null, null));
    g.getMetadata().setUid("uid-now");
    SharedIpcNodeStatus.NamespaceReport now = ns("ns", "md", 0, 1, 10);
    now.groupUid = "uid-now";
    SharedIpcNodeStatus.NamespaceReport before = ns("ns", "md", 0, 20, 200);
    before.groupUid = "uid-before"; // a group of that name deleted and created again
    SharedIpcNodeStatus.NamespaceReport renamedEntry = ns("ns", "other-name", 0, 100, 1000);
    renamedEntry.groupUid = "uid-now"; // the UID decides, not the name
    SharedIpcNodeStatus.VolumeReport oldVolume = new SharedIpcNodeStatus.VolumeReport();
    oldVolume.podNamespace = "ns";
    oldVolume.group = "md";
    oldVolume.groupUid = "uid-before";
    oldVolume.instance = 0;
    oldVolume.usedBytes = 4096L;
    SharedIpcNode upgraded = node("a", List.of(now, before, renamedEntry));
    upgraded.getStatus().setMemoryVolumes(List.of(oldVolume));
    upgraded.getStatus().setOrphansRemovedByGroup(Map.of("ns/md", 7L));
    upgraded.getStatus().setOrphansRemovedByGroupUid(Map.of("uid-before", 5L, "uid-now", 2L));
    // an agent before groupUid: entries and removals by name only
    SharedIpcNode older = node("b", List.of(ns("ns", "md", 0, 3, 30)));
    older.getStatus().setOrphansRemovedByGroup(Map.of("ns/md", 4L));

    NodeUsage.GroupUsage usage = usage(g, List.of(upgraded, older), List.of());

    assertThat(usage.segmentsByInstance().get(0).getCount()).isEqualTo(1 + 100 + 3);
    assertThat(usage.sharedMemoryUsedByInstance()).isEmpty();
    assertThat(usage.orphansRemoved()).isEqualTo(2 + 4);
  }

  @Test
  void entriesKnownOnlyByPodUidCountForTheInstanceOfThatPod() {
    SharedIpcGroup g = group("md", 2, "64Mi", member("w", null, null));
    SharedIpcNodeStatus.VolumeReport emptyDir = new SharedIpcNodeStatus.VolumeReport();
    emptyDir.podUid = "uid-1";
    emptyDir.usedBytes = 8192L;
    SharedIpcNodeStatus.VolumeReport stranger = new SharedIpcNodeStatus.VolumeReport();
    stranger.podUid = "someone-else";
    stranger.usedBytes = 1L;
    SharedIpcNode a = node("a", List.of());
    a.getStatus().setMemoryVolumes(List.of(emptyDir, stranger));
    NodeUsage.GroupUsage usage = usage(g, List.of(a), List.of(pod("md-1", "uid-1", 1, null)));
    assertThat(usage.sharedMemoryUsedByInstance()).containsExactly(Map.entry(1, 8192L));
  }

  @Test
  void aCrashLoopGuardOnAnInstancesVolumeIsToldAsASentence() {
    SharedIpcGroup g = group("md", 2, "64Mi", member("w", null, null));
    SharedIpcNodeStatus.VolumeReport shm = new SharedIpcNodeStatus.VolumeReport();
    shm.kind = "DevShm";
    shm.name = "dev-shm";
    shm.podUid = "uid-1";
    shm.podName = "md-1";
    shm.sizeBytes = 64L << 20;
    shm.usedBytes = 62L << 20;
    shm.crashLoopGuard = new SharedIpcNodeStatus.CrashLoopGuardReport();
    shm.crashLoopGuard.full = true;
    shm.crashLoopGuard.backOff = true;
    shm.crashLoopGuard.containers = List.of("w");
    SharedIpcNodeStatus.GuardFileReport leaked = new SharedIpcNodeStatus.GuardFileReport();
    leaked.name = "torch_77_0";
    leaked.bytes = 60L << 20;
    leaked.inUse = false;
    shm.crashLoopGuard.files = List.of(leaked);
    SharedIpcNodeStatus.VolumeReport calm = new SharedIpcNodeStatus.VolumeReport();
    calm.podUid = "uid-0";
    calm.usedBytes = 1L;
    SharedIpcNode a = node("a", List.of());
    a.getStatus().setMemoryVolumes(List.of(shm, calm));

    NodeUsage.GroupUsage usage =
        usage(g, List.of(a), List.of(pod("md-0", "uid-0", 0, "a"), pod("md-1", "uid-1", 1, "a")));

    assertThat(usage.sharedMemoryFull()).containsOnlyKeys(1);
    assertThat(usage.sharedMemoryFull().get(1))
        .isEqualTo(
            "the /dev/shm of pod md-1 on node a is 96% full (62Mi of 64Mi) while "
                + "container w is in CrashLoopBackOff; largest files: torch_77_0 (60Mi, not open)");
    assertThat(
            usage(
                    g,
                    List.of(
                        node(
                            "a",
                            FRESH.minus(NodeUsage.DEFAULT_MAX_REPORT_AGE.multipliedBy(2)),
                            List.of())),
                    List.of())
                .sharedMemoryFull())
        .as("nothing from a stale report")
        .isEmpty();
  }

  @Test
  void aNodeWithoutStatusContributesNothing() {
    SharedIpcNode bare = new SharedIpcNode();
    bare.getMetadata().setName("a");
    assertThat(
            usage(group("g", 1, "1Mi", member("w", null, null)), List.of(bare), List.of())
                .isEmpty())
        .isTrue();
  }

  @Test
  void aStaleReportDoesNotCountAndSaysWhy() {
    SharedIpcGroup g = group("md", 1, "64Mi", member("w", null, null));
    Instant old = NOW.minus(NodeUsage.DEFAULT_MAX_REPORT_AGE).minusSeconds(1);
    SharedIpcNode stale = node("a", old, List.of(ns("ns", "md", 0, 2, 200)));
    stale.getStatus().setOrphansRemovedByGroup(Map.of("ns/md", 3L));

    NodeUsage.GroupUsage usage = usage(g, List.of(stale), List.of());
    assertThat(usage.isEmpty()).isTrue();
    assertThat(usage.staleAt()).isEmpty();
    assertThat(usage.ignored())
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.node()).isEqualTo("a");
              assertThat(r.reason()).isEqualTo(NodeUsage.REPORT_STALE);
              assertThat(r.instances()).containsExactly(0);
              assertThat(r.message())
                  .contains("node a")
                  .contains(old.toString())
                  .contains("more than 11m ago");
            });

    // the same report, just within the maximum age, counts
    SharedIpcNode fresh =
        node(
            "a",
            NOW.minus(NodeUsage.DEFAULT_MAX_REPORT_AGE).plusSeconds(1),
            List.of(ns("ns", "md", 0, 2, 200)));
    assertThat(usage(g, List.of(fresh), List.of()).segmentsByInstance().get(0).getCount())
        .isEqualTo(2);
    // and the maximum age is a setting
    assertThat(
            new NodeUsage(Duration.ofMinutes(20))
                .of(g, List.of(stale), List.of(), Set.of("a"), NOW)
                .segmentsByInstance()
                .get(0)
                .getCount())
        .isEqualTo(2);
  }

  @Test
  void aQuietReportBetweenHeartbeatsCountsAndOneWhoseHeartbeatStoppedIsStale() {
    SharedIpcGroup g = group("md", 1, "64Mi", member("w", null, null));
    // a quiet node writes once per heartbeat: just before its next one, its report is a heartbeat
    // and a scan interval old
    Instant quiet = NOW.minus(ReportCadence.HEARTBEAT).minusSeconds(30);
    assertThat(
            usage(g, List.of(node("a", quiet, List.of(ns("ns", "md", 0, 2, 200)))), List.of())
                .segmentsByInstance()
                .get(0)
                .getCount())
        .as("fresh but quiet")
        .isEqualTo(2);
    // two heartbeats missed (and the minute of slack): the agent is gone or cut off
    Instant stopped = NOW.minus(ReportCadence.HEARTBEAT.multipliedBy(2)).minusSeconds(61);
    NodeUsage.GroupUsage usage =
        usage(g, List.of(node("a", stopped, List.of(ns("ns", "md", 0, 2, 200)))), List.of());
    assertThat(usage.segmentsByInstance()).as("heartbeat stopped").isEmpty();
    assertThat(usage.ignored())
        .singleElement()
        .satisfies(r -> assertThat(r.reason()).isEqualTo(NodeUsage.REPORT_STALE));
    assertThat(NodeUsage.DEFAULT_MAX_REPORT_AGE).isEqualTo(ReportCadence.STALE_AFTER);
  }

  @Test
  void aReportWithoutScanTimeIsStale() {
    SharedIpcGroup g = group("md", 1, "64Mi", member("w", null, null));
    NodeUsage.GroupUsage usage =
        usage(g, List.of(node("a", null, List.of(ns("ns", "md", 0, 2, 200)))), List.of());
    assertThat(usage.segmentsByInstance()).isEmpty();
    assertThat(usage.ignored())
        .singleElement()
        .satisfies(r -> assertThat(r.message()).contains("no lastScanTime"));
  }

  @Test
  void aReportOfANodeThatNoLongerExistsDoesNotCount() {
    SharedIpcGroup g = group("md", 2, "64Mi", member("w", null, null));
    SharedIpcNode gone = node("gone", List.of(ns("ns", "md", 0, 5, 500)));
    SharedIpcNode here = node("here", List.of(ns("ns", "md", 1, 1, 100)));

    NodeUsage.GroupUsage usage =
        new NodeUsage().of(g, List.of(gone, here), List.of(), Set.of("here"), NOW);
    assertThat(usage.segmentsByInstance()).containsOnlyKeys(1);
    assertThat(usage.ignored())
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.reason()).isEqualTo(NodeUsage.NODE_GONE);
              assertThat(r.message())
                  .isEqualTo("the report of node gone is ignored: node gone no longer exists");
              assertThat(r.instances()).containsExactly(0);
            });
  }

  @Test
  void reportsThatDoNotMentionTheGroupAreNotListedAsIgnored() {
    SharedIpcGroup g = group("md", 1, "64Mi", member("w", null, null));
    SharedIpcNode stranger =
        node("gone", NOW.minusSeconds(3600), List.of(ns("ns", "other", 0, 5, 500)));
    assertThat(new NodeUsage().of(g, List.of(stranger), List.of(), Set.of(), NOW).ignored())
        .isEmpty();
  }

  @Test
  void instancesBeyondReplicasAreNotCounted() {
    SharedIpcGroup g = group("md", 1, "64Mi", member("w", null, null));
    SharedIpcNodeStatus.NamespaceReport byUid = ns(null, null, null, 7, 700);
    byUid.podUid = "uid-3";
    SharedIpcNode a =
        node("a", List.of(ns("ns", "md", 0, 1, 100), ns("ns", "md", 2, 9, 900), byUid));
    NodeUsage.GroupUsage usage = usage(g, List.of(a), List.of(pod("md-3", "uid-3", 3, "a")));
    assertThat(usage.segmentsByInstance()).containsOnlyKeys(0);
    assertThat(usage.segmentsByInstance().get(0).getCount()).isEqualTo(1);
  }

  @Test
  void hostNamespaceSegmentsAttributedToAPodCountForItsInstance() {
    // What the agent reports for a hostIPC group: the node's namespace, and under it, per pod, the
    // segments its ledger attributes to that pod.
    SharedIpcGroup g = group("hp", 2, "64Mi", member("w", null, null));
    SharedIpcNodeStatus.NamespaceReport host = ns(null, null, null, 5, 5000);
    host.host = true;
    host.inode = 4026531839L;
    SharedIpcNodeStatus.NamespaceReport attributed = ns("ns", "hp", 1, 2, 2048);
    attributed.host = true;
    attributed.inode = 4026531839L;
    attributed.podUid = "uid-1";
    attributed.podName = "hp-1-w";
    SharedIpcNode a = node("a", List.of(host, attributed));

    NodeUsage.GroupUsage usage =
        usage(
            g, List.of(a), List.of(pod("hp-0-w", "uid-0", 0, "a"), pod("hp-1-w", "uid-1", 1, "a")));
    assertThat(usage.segmentsByInstance().get(1).getCount()).isEqualTo(2);
    assertThat(usage.segmentsByInstance().get(1).getBytes()).isEqualTo(2048);
    // instance 0 runs on node a too, and a's complete report attributes nothing to it: no segments
    assertThat(usage.segmentsByInstance().get(0).getCount()).isZero();
  }

  @Test
  void anInstanceOnANodeWhoseReportIsTruncatedOrAbsentIsNotJudged() {
    SharedIpcGroup g = group("hp", 2, "64Mi", member("w", null, null));
    SharedIpcNode truncated = node("a", List.of());
    truncated
        .getStatus()
        .setConditions(
            List.of(new ConditionBuilder().withType("Truncated").withStatus("True").build()));
    List<Pod> pods = List.of(pod("hp-0-w", "uid-0", 0, "a"), pod("hp-1-w", "uid-1", 1, "b"));
    assertThat(usage(g, List.of(truncated), pods).segmentsByInstance()).isEmpty();
    assertThat(usage(g, List.of(node("a", List.of())), pods).segmentsByInstance())
        .containsOnlyKeys(0);
  }

  @Test
  void aPodOnAGoneNodeMakesItsReportRelevant() {
    SharedIpcGroup g = group("hp", 1, "64Mi", member("w", null, null));
    NodeUsage.GroupUsage usage =
        new NodeUsage()
            .of(
                g,
                List.of(node("a", List.of())),
                List.of(pod("hp-0-w", "uid-0", 0, "a")),
                Set.of(),
                NOW);
    assertThat(usage.segmentsByInstance()).isEmpty();
    assertThat(usage.ignored())
        .extracting(NodeUsage.IgnoredReport::reason)
        .containsExactly(NodeUsage.NODE_GONE);
    assertThat(usage.staleAt()).isEqualTo(Optional.empty());
  }
}
