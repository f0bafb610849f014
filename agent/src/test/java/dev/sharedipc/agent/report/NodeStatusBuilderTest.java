package dev.sharedipc.agent.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.agent.attribution.Attribution;
import dev.sharedipc.agent.attribution.PodInfo;
import dev.sharedipc.agent.kernel.ShmLimits;
import dev.sharedipc.agent.scan.IpcNamespace;
import dev.sharedipc.agent.scan.MemoryVolume;
import dev.sharedipc.agent.scan.MessageQueue;
import dev.sharedipc.agent.scan.PosixQueue;
import dev.sharedipc.agent.scan.Segment;
import dev.sharedipc.agent.scan.SemaphoreSet;
import dev.sharedipc.agent.survey.Attributed;
import dev.sharedipc.agent.survey.Finding;
import dev.sharedipc.agent.survey.Findings;
import dev.sharedipc.agent.survey.IpcObjects;
import dev.sharedipc.agent.survey.NamespaceFinding;
import dev.sharedipc.agent.verdict.Judgement;
import dev.sharedipc.agent.verdict.Liveness;
import dev.sharedipc.agent.verdict.Policy;
import dev.sharedipc.agent.verdict.Verdict;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus.KernelLimits;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus.NamespaceReport;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus.VolumeReport;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NodeStatusBuilderTest {
  static final Instant T = Instant.parse("2026-01-01T00:00:00Z");
  static final long HOST = 4026531839L;
  static final long POD_NS = 4026532001L;
  static final String PAIR_UID = "0b7c3f2e-5d1a-4c2b-9e8f-7a6b5c4d3e2f";
  static final PodInfo WRITER =
      new PodInfo("uid-writer", "team", "pair-0-writer", "pair", 1, PAIR_UID);

  static Finding finding(long ns, int shmid, long bytes, Attribution a, Verdict verdict) {
    Segment s =
        new Segment(
            ns, 0x100 + shmid, shmid, 0600, bytes, 10, 10, 0, 0, 0, 0, 0, 0, 0, 1000, bytes / 2, 0);
    return new Finding(
        s, a, new Liveness(false, false), Policy.UNKNOWN, new Judgement(verdict, "test"));
  }

  static NamespaceFinding namespace(long inode, boolean host, Attribution a) {
    return new NamespaceFinding(new IpcNamespace(inode, host, List.of(1), List.of()), a, null);
  }

  /**
   * A group deleted and created again under the same name is another group: every entry and count
   * the operator sums names the group's UID, so the new group is not charged the old one's
   * leftovers.
   */
  @Test
  void entriesAndRemovalsNameTheirGroupsUid() {
    Attribution inPod =
        new Attribution(Attribution.Source.POD_NAMESPACE, WRITER.uid(), WRITER, "pod");
    PodInfo earlier = new PodInfo("uid-gone", "team", "pair-0-writer", "pair", 0, "uid-earlier");
    Findings f =
        new Findings(
            T,
            Duration.ofMillis(3),
            List.of(namespace(POD_NS, false, inPod), namespace(HOST, true, Attribution.none("h"))),
            List.of(
                finding(POD_NS, 1, 4096, inPod, Verdict.InUse),
                finding(
                    HOST,
                    2,
                    8192,
                    new Attribution(Attribution.Source.LEDGER, earlier.uid(), earlier, "ledger"),
                    Verdict.Orphaned)),
            List.of(
                new MemoryVolume(
                    MemoryVolume.Kind.NodeShared,
                    "team_pair_" + PAIR_UID + "_1",
                    "/dev/shm/sharedipc/team_pair_" + PAIR_UID + "_1",
                    null,
                    1L << 30,
                    4096,
                    "team",
                    "pair",
                    PAIR_UID,
                    1)),
            null,
            List.of(),
            0);
    RemovalCounts removed = new RemovalCounts();
    removed.add("team/pair", "uid-earlier");
    removed.add("team/pair", PAIR_UID);
    removed.add("team/pair", PAIR_UID);
    removed.add("team/legacy"); // a ledger entry of an agent before group UIDs: by name only

    var status = new NodeStatusBuilder("t").build(f, List.of(), removed);

    assertThat(status.getIpcNamespaces())
        .filteredOn(r -> r.podUid != null)
        .extracting(r -> r.podUid + " " + r.group + " " + r.groupUid)
        .containsExactlyInAnyOrder("uid-writer pair " + PAIR_UID, "uid-gone pair uid-earlier");
    assertThat(status.getMemoryVolumes())
        .singleElement()
        .satisfies(v -> assertThat(v.groupUid).isEqualTo(PAIR_UID));
    assertThat(status.getOrphansRemovedByGroup())
        .containsExactly(Map.entry("team/legacy", 1L), Map.entry("team/pair", 3L));
    assertThat(status.getOrphansRemovedByGroupUid())
        .containsExactly(Map.entry(PAIR_UID, 2L), Map.entry("uid-earlier", 1L));
    assertThat(new NodeStatusBuilder("t").build(f, List.of(), new RemovalCounts()))
        .as("written even when empty: it tells the operator to read removals by UID")
        .satisfies(s -> assertThat(s.getOrphansRemovedByGroupUid()).isEmpty());
  }

  @Test
  void anOrphanSaysSinceWhenItIsUnused() {
    Findings f =
        new Findings(
            T,
            Duration.ofMillis(3),
            List.of(
                namespace(
                    POD_NS,
                    false,
                    new Attribution(
                        Attribution.Source.POD_NAMESPACE, WRITER.uid(), WRITER, "pod"))),
            List.of(
                finding(
                    POD_NS,
                    7,
                    4096,
                    new Attribution(Attribution.Source.POD_NAMESPACE, WRITER.uid(), WRITER, "pod"),
                    Verdict.Orphaned)),
            List.of(),
            null,
            List.of(),
            0);

    var orphan =
        new NodeStatusBuilder("t").build(f, List.of(), new RemovalCounts()).getTopOrphans();

    // finding() makes segments created at second 1000 and never attached since
    assertThat(orphan)
        .singleElement()
        .satisfies(o -> assertThat(o.lastUsedTime).isEqualTo("1970-01-01T00:16:40Z"));
  }

  @Test
  void semaphoreSetsAndQueuesAreCountedInTheirNamespacesEntryAndTotals() {
    Attribution writer =
        new Attribution(Attribution.Source.POD_NAMESPACE, WRITER.uid(), WRITER, "pod");
    Attribution none = Attribution.none("host");
    long quiet = 4026532002L;
    Findings f =
        new Findings(
            T,
            Duration.ofMillis(3),
            List.of(
                namespace(HOST, true, none),
                namespace(POD_NS, false, writer),
                namespace(quiet, false, none)),
            List.of(),
            List.of(),
            null,
            List.of(),
            0,
            new IpcObjects(
                List.of(
                    new Attributed<>(
                        new SemaphoreSet(POD_NS, 1, 0, 0600, 3, 0, 0, 0, 0, 0, 1), writer),
                    new Attributed<>(
                        new SemaphoreSet(POD_NS, 2, 1, 0600, 2, 0, 0, 0, 0, 0, 1), writer),
                    new Attributed<>(
                        new SemaphoreSet(HOST, 3, 0, 0600, 1, 0, 0, 0, 0, 0, 1), none)),
                List.of(
                    new Attributed<>(
                        new MessageQueue(POD_NS, 4, 0, 0600, 100, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1),
                        writer),
                    new Attributed<>(
                        new MessageQueue(quiet, 5, 0, 0600, 7, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1),
                        none)),
                List.of(
                    new Attributed<>(
                        new PosixQueue(POD_NS, "/q", 0, 0, 0100600, 50, 1, 1, "/x"), writer)),
                Map.of(HOST, "unknown: no mqueue", quiet, "unknown: no mqueue")));

    var status = new NodeStatusBuilder("t").build(f, List.of(), new RemovalCounts());

    assertThat(status.getIpcNamespaces())
        .filteredOn(r -> r.inode == POD_NS)
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.podUid).isEqualTo(WRITER.uid());
              assertThat(r.group).isEqualTo("pair");
              assertThat(r.semaphoreSets).isEqualTo(2L);
              assertThat(r.semaphores).isEqualTo(5L);
              assertThat(r.messageQueues).isEqualTo(1L);
              assertThat(r.queuedBytes).isEqualTo(100L);
              assertThat(r.posixMessageQueues).isEqualTo(1L);
              assertThat(r.posixQueuedBytes).isEqualTo(50L);
              assertThat(r.posixMessageQueuesUnknown).isNull();
            });
    // a namespace of no pod holding only a queue is listed, and says its POSIX queues are unknown,
    // not zero
    assertThat(status.getIpcNamespaces())
        .filteredOn(r -> r.inode == quiet)
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.messageQueues).isEqualTo(1L);
              assertThat(r.posixMessageQueues).isNull();
              assertThat(r.posixMessageQueuesUnknown).isTrue();
            });
    assertThat(status.getIpcNamespaces())
        .filteredOn(r -> r.inode == HOST)
        .singleElement()
        .satisfies(r -> assertThat(r.semaphoreSets).isEqualTo(1L));
    assertThat(status.getTotals().semaphoreSets).isEqualTo(3L);
    assertThat(status.getTotals().semaphores).isEqualTo(6L);
    assertThat(status.getTotals().messageQueues).isEqualTo(2L);
    assertThat(status.getTotals().queuedBytes).isEqualTo(107L);
    assertThat(status.getTotals().posixMessageQueues).isEqualTo(1L);
    assertThat(status.getTotals().posixMessageQueuesUnknownNamespaces).isEqualTo(2L);
  }

  @Test
  void hostNamespaceSegmentsOfAPodAreReportedAsThatPodsEntry() {
    Attribution none = Attribution.none("host");
    Findings f =
        new Findings(
            T,
            Duration.ofMillis(3),
            List.of(
                namespace(HOST, true, none),
                namespace(
                    POD_NS,
                    false,
                    new Attribution(Attribution.Source.POD_NAMESPACE, "uid-other", null, "pod"))),
            List.of(
                // creator alive but the pod not known yet: the UID only; the ledger's entry names
                // the rest
                finding(
                    HOST,
                    1,
                    4096,
                    new Attribution(Attribution.Source.LIVE_CREATOR, WRITER.uid(), null, "creator"),
                    Verdict.OwnerAlive),
                finding(
                    HOST,
                    2,
                    8192,
                    new Attribution(Attribution.Source.LEDGER, WRITER.uid(), WRITER, "ledger"),
                    Verdict.Orphaned),
                finding(
                    HOST,
                    3,
                    1024,
                    new Attribution(
                        Attribution.Source.LIVE_CREATOR, "uid-unknown-pod", null, "creator"),
                    Verdict.OwnerAlive),
                finding(HOST, 4, 512, none, Verdict.Unattributed),
                finding(
                    POD_NS,
                    1,
                    2048,
                    new Attribution(Attribution.Source.POD_NAMESPACE, "uid-other", null, "pod"),
                    Verdict.InUse)),
            List.of(),
            null,
            List.of(),
            0);

    List<NamespaceReport> entries =
        new NodeStatusBuilder("t").build(f, List.of(), new RemovalCounts()).getIpcNamespaces();

    assertThat(entries)
        .filteredOn(r -> WRITER.uid().equals(r.podUid))
        .singleElement()
        .satisfies(
            r -> {
              // the shape the operator sums per instance: pod namespace, group and instance, as for
              // a pod's own namespace
              assertThat(r.inode).isEqualTo(HOST);
              assertThat(r.host).isTrue();
              assertThat(r.podNamespace).isEqualTo("team");
              assertThat(r.podName).isEqualTo("pair-0-writer");
              assertThat(r.group).isEqualTo("pair");
              assertThat(r.instance).isEqualTo(1);
              assertThat(r.segments).isEqualTo(2);
              assertThat(r.bytes).isEqualTo(4096 + 8192);
              assertThat(r.rssBytes).isEqualTo((4096 + 8192) / 2);
              assertThat(r.orphans).isEqualTo(1);
            });
    assertThat(entries)
        .filteredOn(r -> "uid-unknown-pod".equals(r.podUid))
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.host).isTrue();
              assertThat(r.group).isNull();
              assertThat(r.segments).isEqualTo(1);
            });
    assertThat(entries)
        .filteredOn(r -> r.inode == HOST && r.podUid == null)
        .singleElement()
        .satisfies(
            r -> assertThat(r.segments).as("only the unattributed host segments").isEqualTo(1));
    assertThat(entries.stream().mapToLong(r -> r.segments).sum())
        .as("each segment in exactly one entry")
        .isEqualTo(5);
  }

  @Test
  void kernelLimitsAreReportedExactlyAlthoughTheyExceedASignedLong() {
    Findings f =
        new Findings(
            T,
            Duration.ofMillis(3),
            List.of(),
            List.of(),
            List.of(),
            new ShmLimits(
                ShmLimits.unsigned(-16777217L),
                ShmLimits.unsigned(-16777217L),
                4096,
                0,
                0,
                0,
                0,
                0),
            List.of(),
            0);

    KernelLimits k =
        new NodeStatusBuilder("t").build(f, List.of(), new RemovalCounts()).getKernel();

    assertThat(k.shmmax).isEqualTo("18446744073692774399");
    assertThat(k.shmall).isEqualTo("18446744073692774399");
    assertThat(k.shmmni).isEqualTo(4096);
  }

  @Test
  void sharedDirectoriesCarryTheirInstanceSoTheOperatorCanSumThem() {
    Findings f =
        new Findings(
            T,
            Duration.ofMillis(3),
            List.of(),
            List.of(),
            List.of(
                new MemoryVolume(
                    MemoryVolume.Kind.NodeShared,
                    "team_g_2",
                    "/dev/shm/sharedipc/team_g_2",
                    null,
                    1L << 30,
                    4096,
                    "team",
                    "g",
                    null,
                    2),
                new MemoryVolume(
                    MemoryVolume.Kind.NodeShared,
                    "scratch",
                    "/dev/shm/sharedipc/scratch",
                    null,
                    1L << 30,
                    1024)),
            null,
            List.of(),
            0);
    List<VolumeReport> volumes =
        new NodeStatusBuilder("t").build(f, List.of(), new RemovalCounts()).getMemoryVolumes();
    assertThat(volumes).hasSize(2);
    VolumeReport attributed = volumes.get(0);
    assertThat(attributed.name).isEqualTo("team_g_2");
    assertThat(attributed.podNamespace).isEqualTo("team");
    assertThat(attributed.group).isEqualTo("g");
    assertThat(attributed.instance).isEqualTo(2);
    assertThat(attributed.podUid).isNull();
    VolumeReport unattributed = volumes.get(1);
    assertThat(unattributed.podNamespace).isNull();
    assertThat(unattributed.group).isNull();
    assertThat(unattributed.instance).isNull();
  }

  // ---- POSIX objects and the crash-loop guard ----

  static dev.sharedipc.agent.survey.PosixObjectFinding posixObject(
      MemoryVolume v,
      PodInfo pod,
      String name,
      long bytes,
      dev.sharedipc.agent.verdict.PosixObjectVerdict verdict) {
    var o =
        new dev.sharedipc.agent.scan.PosixObject(
            v,
            name,
            dev.sharedipc.agent.scan.PosixObject.FileKind.Regular,
            new dev.sharedipc.agent.scan.OpenFileUsers.FileId(0, 42, name.hashCode() & 0xffff),
            bytes,
            bytes,
            0,
            0,
            0600,
            0,
            0);
    return new dev.sharedipc.agent.survey.PosixObjectFinding(
        o,
        pod,
        1,
        java.util.Set.of(),
        java.util.Set.of(),
        java.util.Set.of(),
        dev.sharedipc.agent.verdict.Policy.UNKNOWN,
        false,
        new dev.sharedipc.agent.verdict.PosixObjectJudgement(verdict, "because"));
  }

  @Test
  void posixObjectsAreCountedPerVolumeWithItsPodAndTheGuardAndTheOrphanListIsBounded() {
    MemoryVolume shm =
        new MemoryVolume(
            MemoryVolume.Kind.DevShm,
            "dev-shm",
            "/proc/7/root/dev/shm",
            "uid-writer",
            64L << 20,
            62L << 20);
    MemoryVolume host =
        new MemoryVolume(
            MemoryVolume.Kind.HostShm, "host-dev-shm", "/dev/shm", null, 1L << 30, 4096);
    List<dev.sharedipc.agent.survey.PosixObjectFinding> objects = new ArrayList<>();
    for (int i = 0; i < NodeStatusBuilder.MAX_ORPHAN_OBJECTS + 5; i++) {
      objects.add(
          posixObject(
              shm,
              WRITER,
              "leak-" + i,
              1024L * (i + 1),
              dev.sharedipc.agent.verdict.PosixObjectVerdict.Remove));
    }
    objects.add(
        posixObject(
            shm, WRITER, "in-use", 1L << 20, dev.sharedipc.agent.verdict.PosixObjectVerdict.InUse));
    var guard =
        new dev.sharedipc.agent.survey.PosixVolumeFinding.CrashLoopGuard(
            true,
            List.of("writer"),
            List.of(),
            List.of(
                new dev.sharedipc.agent.survey.PosixVolumeFinding.GuardFile(
                    "in-use", 1L << 20, true)));
    var posix =
        new dev.sharedipc.agent.survey.PosixFindings(
            List.of(
                new dev.sharedipc.agent.survey.PosixVolumeFinding(
                    shm, WRITER, 1, objects.size(), 1L << 21, objects.size() - 1, guard),
                new dev.sharedipc.agent.survey.PosixVolumeFinding(host, null, 0, 0, 0, 0, null)),
            objects,
            null);
    Findings f =
        new Findings(
            T, Duration.ofMillis(3), List.of(), List.of(), List.of(shm), null, List.of(), 0, posix);
    NodeStatusBuilder b = new NodeStatusBuilder("t");
    var s = b.build(f, List.of(), new RemovalCounts());
    var removed =
        new dev.sharedipc.agent.reap.PosixObjectReaper.Decision(
            objects.get(objects.size() - 2).object(),
            objects.get(objects.size() - 2).judgement(),
            dev.sharedipc.agent.reap.Action.Removed,
            null);

    b.addPosix(s, posix, List.of(removed));

    assertThat(s.getMemoryVolumes()).extracting(v -> v.kind).containsExactly("DevShm", "HostShm");
    var v = s.getMemoryVolumes().get(0);
    assertThat(v.podName).isEqualTo("pair-0-writer");
    assertThat(v.group).isEqualTo("pair");
    assertThat(v.instance).isEqualTo(1);
    assertThat(v.objects).isEqualTo(objects.size());
    assertThat(v.orphanObjects).isEqualTo(objects.size() - 1);
    assertThat(v.crashLoopGuard.backOff).isTrue();
    assertThat(v.crashLoopGuard.containers).containsExactly("writer");
    assertThat(v.crashLoopGuard.files).singleElement().satisfies(x -> assertThat(x.inUse).isTrue());
    assertThat(s.getMemoryVolumes().get(1).crashLoopGuard).isNull();
    assertThat(s.getPosixObjects()).isEqualTo(objects.size());
    assertThat(s.getTopOrphanObjects()).hasSize(NodeStatusBuilder.MAX_ORPHAN_OBJECTS);
    assertThat(s.getTopOrphanObjects().get(0).path).isEqualTo("/proc/7/root/dev/shm/leak-24");
    assertThat(s.getTopOrphanObjects().get(0).action).isEqualTo("Removed");
    assertThat(s.getTopOrphanObjects().get(1).action).isEqualTo("Kept");
  }
}
