package dev.sharedipc.agent.survey;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.agent.attribution.Attribution;
import dev.sharedipc.agent.attribution.Ledger;
import dev.sharedipc.agent.attribution.PodDirectory;
import dev.sharedipc.agent.attribution.PodInfo;
import dev.sharedipc.agent.kernel.FsUsage;
import dev.sharedipc.agent.kernel.ShmStat;
import dev.sharedipc.agent.reap.Action;
import dev.sharedipc.agent.reap.Decision;
import dev.sharedipc.agent.reap.Reaper;
import dev.sharedipc.agent.scan.MemoryVolume;
import dev.sharedipc.agent.scan.Segment;
import dev.sharedipc.agent.testing.FakeKernel;
import dev.sharedipc.agent.testing.ProcFixture;
import dev.sharedipc.agent.verdict.Liveness;
import dev.sharedipc.agent.verdict.Policy;
import dev.sharedipc.agent.verdict.PolicyResolver;
import dev.sharedipc.agent.verdict.Verdict;
import dev.sharedipc.api.v1alpha1.OrphanPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A whole pass (discovery, attribution, judgement, reaping) over a fixture /proc tree with every
 * cgroup layout, vanishing processes and namespaces, and an in-memory kernel.
 */
class SurveyTest {
  static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");
  static final long HOUR_AGO = NOW.getEpochSecond() - 3600;
  static final long HOST = 4026531839L;
  static final long A = 4026532001L,
      B = 4026532002L,
      C = 4026532003L,
      D = 4026532004L,
      E = 4026532005L,
      F = 4026532006L,
      G = 4026532007L;
  static final String POD_A = "aaaaaaaa-0000-4000-8000-000000000001";
  static final String POD_B = "bbbbbbbb-0000-4000-8000-000000000002";
  static final String POD_C = "cccccccc-0000-4000-8000-000000000003";
  static final String POD_D = "dddddddd-0000-4000-8000-000000000004";
  static final String POD_H = "eeeeeeee-0000-4000-8000-000000000005";
  static final String CID = "ab".repeat(32);

  @TempDir Path proc;
  @TempDir Path state;
  FakeKernel kernel;
  Ledger ledger;

  @BeforeEach
  void fixture() throws Exception {
    new ProcFixture(proc)
        .process(1, HOST, ProcFixture.HOST_CGROUP)
        .process(100, A, ProcFixture.podCgroup(POD_A)) // pause, cgroup v2 systemd containerd
        .process(
            101,
            A,
            "11:memory:/kubepods/besteffort/pod"
                + POD_A
                + "/"
                + CID
                + "\n") // v1 cgroupfs, same pod
        .process(
            102,
            A,
            ProcFixture
                .HOST_CGROUP) // someone nsenter'd for debugging: not a pod, does not count against
        // it
        .process(
            200,
            B,
            "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
                + POD_B.replace('-', '_')
                + ".slice/crio-"
                + CID
                + ".scope\n")
        .process(300, C, "0::/system.slice/docker-" + CID + ".scope\n") // a plain docker container
        .process(400, D, ProcFixture.podCgroup(POD_C))
        .process(401, D, ProcFixture.podCgroup(POD_D))
        .process(500, E, null) // exited between readdir and reading its cgroup
        .process(600, F, ProcFixture.podCgroup(POD_A))
        .process(700, G, ProcFixture.podCgroup(POD_B))
        .process(800, HOST, "4:memory:/kubepods/pod" + POD_H + "/" + CID + "\n"); // a hostIPC pod

    kernel =
        new FakeKernel()
            .segment(A, 0x1001, 1, 4096, 555, 555, 0, HOUR_AGO, HOUR_AGO, HOUR_AGO - 5) // orphan
            .segment(A, 0x1002, 2, 8192, 555, 556, 1, HOUR_AGO, 0, HOUR_AGO) // attached
            .segment(A, 0x1003, 3, 4096, 101, 101, 0, HOUR_AGO, HOUR_AGO, HOUR_AGO) // creator alive
            .segment(B, 0x2001, 1, 1 << 20, 666, 666, 0, 0, 0, HOUR_AGO) // orphan, never attached
            .segment(C, 0x3001, 1, 4096, 777, 777, 0, 0, 0, HOUR_AGO) // no pod
            .segment(D, 0x4001, 1, 4096, 778, 778, 0, 0, 0, HOUR_AGO) // two pods
            .segment(E, 0x5001, 1, 4096, 779, 779, 0, 0, 0, HOUR_AGO) // cgroup unreadable
            .segment(
                HOST, 0x6001, 10, 4096, 800, 800, 0, 0, 0, HOUR_AGO) // host, creator alive in pod H
            .segment(
                HOST, 0x6002, 11, 4096, 801, 801, 0, 0, 0,
                HOUR_AGO) // host, creator gone, in the ledger
            .segment(
                HOST, 0x6003, 12, 4096, 802, 802, 0, 0, 0, HOUR_AGO); // host, creator gone, unknown
    kernel.sysvShm.merge(B, "this line is garbage\n", String::concat);
    kernel.gone.add(F); // its last process exited before setns
    kernel.forbidden.add(G);

    ledger = Ledger.open(state.resolve("ledger.json"));
    Segment recorded =
        new Segment(HOST, 0x6002, 11, 0600, 4096, 801, 801, 0, 0, 0, 0, 0, 0, 0, HOUR_AGO, 4096, 0);
    ledger.record(
        recorded, new PodInfo(POD_H, "team", "host-writer", "g", 1), NOW.minusSeconds(7200));
  }

  Findings survey(Policy policy) throws Exception {
    Path kubelet = state.resolve("kubelet");
    Files.createDirectories(
        kubelet.resolve("pods/" + POD_A + "/volumes/kubernetes.io~empty-dir/shm"));
    Files.createDirectories(
        kubelet.resolve("pods/" + POD_A + "/volumes/kubernetes.io~empty-dir/disk"));
    kernel.filesystems.put(
        kubelet.resolve("pods/" + POD_A + "/volumes/kubernetes.io~empty-dir/shm"),
        new FsUsage(FsUsage.TMPFS_MAGIC, 512 << 20, 100 << 20, 412 << 20));
    kernel.filesystems.put(
        kubelet.resolve("pods/" + POD_A + "/volumes/kubernetes.io~empty-dir/disk"),
        new FsUsage(0xEF53, 10L << 30, 1 << 20, 9L << 30));
    PodDirectory pods =
        uid ->
            uid.equals(POD_A)
                ? Optional.of(new PodInfo(POD_A, "team", "writer-0", "g", 0))
                : Optional.empty();
    Survey.Config config = new Survey.Config(proc, proc, HOST, kubelet, state.resolve("shared"));
    return new Survey(
            config,
            kernel,
            pods,
            ledger,
            PolicyResolver.fixed(policy),
            Clock.fixed(NOW, ZoneOffset.UTC))
        .run();
  }

  static Map<String, Finding> byId(Findings f) {
    return f.segments().stream()
        .collect(
            Collectors.toMap(x -> x.segment().ipcNamespace() + "/" + x.segment().shmid(), x -> x));
  }

  static final Policy DELETE = new Policy(OrphanPolicy.Delete, Duration.ofMinutes(10), "test");

  @Test
  void everySegmentOfEveryReadableNamespaceIsFoundJudgedAndAttributed() throws Exception {
    Findings f = survey(DELETE);
    Map<String, Finding> s = byId(f);

    assertThat(s.keySet())
        .containsExactlyInAnyOrder(
            A + "/1",
            A + "/2",
            A + "/3",
            B + "/1",
            C + "/1",
            D + "/1",
            E + "/1",
            HOST + "/10",
            HOST + "/11",
            HOST + "/12");
    assertThat(s.get(A + "/1").judgement().verdict()).isEqualTo(Verdict.Remove);
    assertThat(s.get(A + "/1").attribution().podLabel()).isEqualTo("team/writer-0");
    assertThat(s.get(A + "/1").attribution().groupKey()).isEqualTo("team/g");
    assertThat(s.get(A + "/2").judgement().verdict()).isEqualTo(Verdict.InUse);
    assertThat(s.get(A + "/3").judgement().verdict()).isEqualTo(Verdict.OwnerAlive);
    assertThat(s.get(B + "/1").judgement().verdict()).isEqualTo(Verdict.Remove);
    assertThat(s.get(B + "/1").attribution().podUid()).isEqualTo(POD_B);
    assertThat(s.get(C + "/1").judgement().verdict()).isEqualTo(Verdict.Unattributed);
    assertThat(s.get(D + "/1").judgement().verdict()).isEqualTo(Verdict.Ambiguous);
    assertThat(s.get(E + "/1").judgement().verdict()).isEqualTo(Verdict.Unattributed);
    assertThat(s.get(HOST + "/10").attribution().source())
        .isEqualTo(Attribution.Source.LIVE_CREATOR);
    assertThat(s.get(HOST + "/10").attribution().podUid()).isEqualTo(POD_H);
    assertThat(s.get(HOST + "/10").judgement().verdict()).isEqualTo(Verdict.OwnerAlive);
    assertThat(s.get(HOST + "/11").attribution().source()).isEqualTo(Attribution.Source.LEDGER);
    assertThat(s.get(HOST + "/11").attribution().groupKey()).isEqualTo("team/g");
    assertThat(s.get(HOST + "/11").judgement().verdict()).isEqualTo(Verdict.Remove);
    assertThat(s.get(HOST + "/12").judgement().verdict()).isEqualTo(Verdict.Unattributed);
  }

  @Test
  void semaphoreSetsAndMessageQueuesAreReadPerNamespaceAndAttributedAsItsSegments()
      throws Exception {
    kernel
        .semaphoreSet(A, 0x7001, 0, 3, 0, HOUR_AGO)
        .semaphoreSet(A, 0x7002, 1, 1, HOUR_AGO, HOUR_AGO)
        .semaphoreSet(C, 0x7003, 0, 2, 0, HOUR_AGO)
        .messageQueue(B, 0x8001, 0, 4096, 3, 666, 0, HOUR_AGO)
        .messageQueue(HOST, 0x8002, 5, 0, 0, 0, 0, HOUR_AGO);
    kernel.sysvMsg.merge(B, "garbage\n", String::concat);

    Findings f = survey(DELETE);

    IpcObjects o = f.ipcObjects();
    assertThat(o.semaphoreSets())
        .extracting(
            x ->
                x.object().ipcNamespace()
                    + "/"
                    + x.object().semid()
                    + "="
                    + x.attribution().podLabel())
        .containsExactlyInAnyOrder(A + "/0=team/writer-0", A + "/1=team/writer-0", C + "/0=-");
    assertThat(o.semaphoreSets())
        .filteredOn(x -> x.object().ipcNamespace() == A)
        .allSatisfy(x -> assertThat(x.attribution().groupKey()).isEqualTo("team/g"));
    assertThat(o.semaphoreSets())
        .filteredOn(x -> x.object().semid() == 0 && x.object().ipcNamespace() == A)
        .singleElement()
        .satisfies(x -> assertThat(x.object().nsems()).isEqualTo(3));
    assertThat(o.messageQueues())
        .extracting(
            x ->
                x.object().ipcNamespace()
                    + "/"
                    + x.object().msqid()
                    + "="
                    + x.attribution().podLabel())
        .containsExactlyInAnyOrder(B + "/0=" + POD_B, HOST + "/5=-");
    assertThat(o.messageQueues())
        .filteredOn(x -> x.object().ipcNamespace() == B)
        .singleElement()
        .satisfies(
            x -> {
              assertThat(x.object().queuedBytes()).isEqualTo(4096);
              assertThat(x.object().messages()).isEqualTo(3);
              assertThat(x.object().lastSendPid()).isEqualTo(666);
            });
    assertThat(f.problems())
        .contains("1 malformed line(s) in /proc/sysvipc/msg of ipc:[" + B + "] skipped");
    // the fixture root has no <pid>/root: every readable namespace's POSIX queues are unknown, and
    // said so
    assertThat(o.posixQueues()).isEmpty();
    assertThat(o.posixQueuesUnreadable())
        .containsKeys(A, B, C, HOST)
        .doesNotContainKeys(F, G); // F gone, G forbidden
    assertThat(o.posixQueuesUnreadable().get(A))
        .contains("ipc:[" + A + "]", "unknown", "/dev/mqueue");
  }

  @Test
  void aNamespaceGoneBeforeSetnsIsSkippedQuietlyAndAForbiddenOneIsAProblem() throws Exception {
    Findings f = survey(DELETE);

    assertThat(f.namespaces())
        .filteredOn(n -> n.namespace().inode() == F)
        .singleElement()
        .satisfies(n -> assertThat(n.problem()).contains("gone"));
    assertThat(f.problems()).anySatisfy(p -> assertThat(p).contains("EPERM"));
    assertThat(f.problems()).noneSatisfy(p -> assertThat(p).contains("ipc:[" + F + "] is gone"));
    assertThat(f.problems())
        .anySatisfy(p -> assertThat(p).contains("1 malformed line(s)").contains(Long.toString(B)));
    assertThat(f.malformedLines()).isEqualTo(1);
  }

  @Test
  void namespacesAreAttributedByTheirPodProcessesOnly() throws Exception {
    Findings f = survey(DELETE);
    Map<Long, NamespaceFinding> ns =
        f.namespaces().stream().collect(Collectors.toMap(n -> n.namespace().inode(), n -> n));

    assertThat(ns.get(A).attribution().podUid()).isEqualTo(POD_A);
    assertThat(ns.get(B).attribution().podUid()).isEqualTo(POD_B);
    assertThat(ns.get(C).attribution().source()).isEqualTo(Attribution.Source.NONE);
    assertThat(ns.get(D).attribution().source()).isEqualTo(Attribution.Source.AMBIGUOUS);
    assertThat(ns.get(HOST).namespace().host()).isTrue();
    assertThat(ns.get(HOST).attribution().podUid()).isNull();
  }

  @Test
  void theLedgerRemembersLiveCreatorsAndForgetsVanishedSegments() throws Exception {
    Segment stale =
        new Segment(HOST, 0x7777, 99, 0600, 4096, 9, 9, 0, 0, 0, 0, 0, 0, 0, HOUR_AGO, 4096, 0);
    ledger.record(stale, new PodInfo(POD_H, null, null, null, null), NOW);

    survey(DELETE);

    Ledger reread = Ledger.open(state.resolve("ledger.json"));
    Segment live =
        new Segment(HOST, 0x6001, 10, 0600, 4096, 800, 800, 0, 0, 0, 0, 0, 0, 0, HOUR_AGO, 4096, 0);
    assertThat(reread.lookup(live))
        .isNotNull()
        .satisfies(p -> assertThat(p.uid()).isEqualTo(POD_H));
    assertThat(reread.lookup(stale)).isNull();
    assertThat(reread.size()).isEqualTo(2);
  }

  @Test
  void aLiveLastOperatorIsAliveAlsoWhenItIsTheCreator() throws Exception {
    Findings f = survey(DELETE);
    Finding sameCreatorAndOperator = byId(f).get(A + "/3"); // cpid == lpid == 101, alive in A
    assertThat(sameCreatorAndOperator.liveness()).isEqualTo(new Liveness(true, true));
  }

  @Test
  void aReusedCreatorPidNeitherOwnsNorKeepsTheSegment() throws Exception {
    long boot = NOW.getEpochSecond() - 86_400;
    new ProcFixture(proc)
        .booted(boot)
        .started(
            800, boot, HOUR_AGO - 100) // started before its segment HOST/10: may be its creator
        // pid 801 created HOST/11 an hour ago and exited; the pid now names a process of pod B
        // started a minute ago
        .process(801, HOST, ProcFixture.podCgroup(POD_B))
        .started(801, boot, NOW.getEpochSecond() - 60);

    Findings f = survey(DELETE);
    Map<String, Finding> s = byId(f);

    assertThat(s.get(HOST + "/10").attribution().source())
        .isEqualTo(Attribution.Source.LIVE_CREATOR);
    Finding reused = s.get(HOST + "/11");
    assertThat(reused.attribution().source())
        .as("the ledger's creator, not pod B")
        .isEqualTo(Attribution.Source.LEDGER);
    assertThat(reused.attribution().podUid()).isEqualTo(POD_H);
    assertThat(reused.liveness().creatorAlive()).isFalse();
    assertThat(reused.judgement().verdict()).isEqualTo(Verdict.Remove);
    Segment segment = reused.segment();
    assertThat(Ledger.open(state.resolve("ledger.json")).lookup(segment).uid())
        .as("the ledger still names pod H")
        .isEqualTo(POD_H);
  }

  @Test
  void aReusedCreatorPidOfAnUnrecordedSegmentAttributesNothing() throws Exception {
    long boot = NOW.getEpochSecond() - 86_400;
    new ProcFixture(proc)
        .booted(boot)
        .process(802, HOST, ProcFixture.podCgroup(POD_B))
        .started(802, boot, NOW.getEpochSecond() - 60);

    Findings f = survey(DELETE);
    Finding reused = byId(f).get(HOST + "/12");

    assertThat(reused.attribution().attributed()).isFalse();
    assertThat(reused.judgement().verdict()).isEqualTo(Verdict.Unattributed);
    assertThat(Ledger.open(state.resolve("ledger.json")).lookup(reused.segment()))
        .as("nothing recorded for pod B")
        .isNull();
  }

  @Test
  void onlyMemoryBackedEmptyDirsAreVolumes() throws Exception {
    Findings f = survey(DELETE);
    assertThat(f.volumes())
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.kind()).isEqualTo(MemoryVolume.Kind.EmptyDir);
              assertThat(v.podUid()).isEqualTo(POD_A);
              assertThat(v.name()).isEqualTo("shm");
              assertThat(v.usedBytes()).isEqualTo(100 << 20);
            });
  }

  @Test
  void theReaperRemovesExactlyTheRemoveVerdicts() throws Exception {
    Findings f = survey(DELETE);
    List<Decision> decisions =
        new Reaper(kernel, proc, false, d -> {}).reap(f.segments(), f.namespaces());

    assertThat(kernel.removed).containsExactlyInAnyOrder(A + "/1", B + "/1", HOST + "/11");
    assertThat(decisions).filteredOn(d -> d.action() == Action.Removed).hasSize(3);
    assertThat(decisions).filteredOn(d -> d.action() == Action.Kept).hasSize(7);
  }

  @Test
  void underReportNothingIsRemoved() throws Exception {
    Findings f = survey(new Policy(OrphanPolicy.Report, Duration.ZERO, "test"));
    List<Decision> decisions =
        new Reaper(kernel, proc, false, d -> {}).reap(f.segments(), f.namespaces());

    assertThat(kernel.removed).isEmpty();
    assertThat(decisions).extracting(Decision::action).containsOnly(Action.Kept);
    assertThat(f.segments())
        .filteredOn(x -> x.judgement().verdict() == Verdict.Orphaned)
        .hasSize(3);
  }

  @Test
  void dryRunRemovesNothingAndSaysWhatItWouldRemove() throws Exception {
    Findings f = survey(DELETE);
    List<Decision> decisions =
        new Reaper(kernel, proc, true, d -> {}).reap(f.segments(), f.namespaces());

    assertThat(kernel.removed).isEmpty();
    assertThat(decisions).filteredOn(d -> d.action() == Action.WouldRemove).hasSize(3);
  }

  @Test
  void whatChangedBetweenJudgementAndActionSparesTheSegment() throws Exception {
    Findings f = survey(DELETE);
    // A/1: removed and re-created with the same key under the same id slot (new ctime)
    kernel
        .stats
        .get(A)
        .put(
            1,
            new ShmStat(
                1, 0x1001, 0600, 4096, 0, 0, 0, 0, 0, 0, NOW.getEpochSecond(), 900, 900, 0));
    // B/1: someone attached
    ShmStat b = kernel.stats.get(B).get(1);
    kernel
        .stats
        .get(B)
        .put(
            1,
            new ShmStat(
                1,
                b.key(),
                b.mode(),
                b.bytes(),
                0,
                0,
                0,
                0,
                NOW.getEpochSecond(),
                0,
                b.ctime(),
                b.cpid(),
                901,
                1));
    // HOST/11: its creator pid is alive in the host namespace again
    new ProcFixture(proc).process(801, HOST, ProcFixture.HOST_CGROUP);
    List<String> audit = new ArrayList<>();

    List<Decision> decisions =
        new Reaper(kernel, proc, false, d -> audit.add(d.audit()))
            .reap(f.segments(), f.namespaces());

    assertThat(kernel.removed).isEmpty();
    assertThat(decisions)
        .filteredOn(d -> d.action() == Action.Spared)
        .extracting(Decision::reason)
        .anySatisfy(r -> assertThat(r).contains("ctime changed"))
        .anySatisfy(r -> assertThat(r).contains("attached again"))
        .anySatisfy(r -> assertThat(r).contains("creator pid 801 is alive"));
    assertThat(audit)
        .anySatisfy(
            line ->
                assertThat(line)
                    .contains(
                        "ipcns=" + A,
                        "shmid=1",
                        "key=0x00001001",
                        "podUid=" + POD_A,
                        "pod=team/writer-0",
                        "group=team/g",
                        "verdict=Remove",
                        "action=Spared",
                        "reason=\""));
  }

  @Test
  void aSegmentThatVanishedBeforeActionIsSpared() throws Exception {
    Findings f = survey(DELETE);
    kernel.stats.get(A).remove(1);
    List<Decision> decisions =
        new Reaper(kernel, proc, false, d -> {}).reap(f.segments(), f.namespaces());
    assertThat(decisions)
        .filteredOn(
            d -> d.finding().segment().ipcNamespace() == A && d.finding().segment().shmid() == 1)
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.action()).isEqualTo(Action.Spared);
              assertThat(d.reason()).contains("no longer exists");
            });
  }
}
