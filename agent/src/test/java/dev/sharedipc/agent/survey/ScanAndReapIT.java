package dev.sharedipc.agent.survey;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sharedipc.agent.attribution.Attribution;
import dev.sharedipc.agent.attribution.Ledger;
import dev.sharedipc.agent.attribution.PodDirectory;
import dev.sharedipc.agent.kernel.LinuxKernel;
import dev.sharedipc.agent.kernel.NamespaceUnavailableException;
import dev.sharedipc.agent.reap.Action;
import dev.sharedipc.agent.reap.Decision;
import dev.sharedipc.agent.reap.Reaper;
import dev.sharedipc.agent.scan.NamespaceCollector;
import dev.sharedipc.agent.testing.ProcFixture;
import dev.sharedipc.agent.testing.RealNamespaces;
import dev.sharedipc.agent.testing.RealNamespaces.Handle;
import dev.sharedipc.agent.testing.RealNamespaces.Ns;
import dev.sharedipc.agent.verdict.Policy;
import dev.sharedipc.agent.verdict.PolicyResolver;
import dev.sharedipc.agent.verdict.Verdict;
import dev.sharedipc.api.v1alpha1.OrphanPolicy;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent against the real kernel, as root: IPC namespaces made with unshare, real segments made
 * inside them by real processes, a fixture proc root that maps each namespace to a pod (its {@code
 * ns/ipc} links to the real one), and the real reaper. Only namespaces this test made are ever
 * scanned or reaped (the fixture root lists nothing else).
 */
class ScanAndReapIT {
  static final String POD_A = "a0000000-0000-4000-8000-00000000000a";
  static final String POD_B = "b0000000-0000-4000-8000-00000000000b";
  static final Policy DELETE_NOW = new Policy(OrphanPolicy.Delete, Duration.ZERO, "test");

  @TempDir Path proc;
  RealNamespaces real;
  LinuxKernel kernel = new LinuxKernel();

  Ns a;
  Ns b;
  Ns unattributed;
  int orphanA;
  Handle attachedA;
  Handle liveA;
  int orphanB;
  int sharedB;
  Handle readerB;
  int orphanC;

  @BeforeEach
  void namespacesWithSegments() throws Exception {
    real = new RealNamespaces();
    a = real.newNamespace();
    b = real.newNamespace();
    unattributed = real.newNamespace();
    new ProcFixture(proc)
        .realNamespace((int) a.pid(), a.pid(), ProcFixture.podCgroup(POD_A))
        .realNamespace(
            (int) b.pid(),
            b.pid(),
            "11:memory:/kubepods/burstable/pod" + POD_B + "/" + "cd".repeat(32) + "\n")
        .realNamespace((int) unattributed.pid(), unattributed.pid(), ProcFixture.HOST_CGROUP);

    orphanA = real.orphan(a, 0x5100, 64 << 10);
    attachedA = real.attached(a, 0x5101, 8 << 10);
    liveA = real.live(a, 0x5102, 4 << 10);
    orphanB = real.orphan(b, 0x5100, 1 << 20); // same key as in A: keys are per namespace
    sharedB = real.orphan(b, 0x5200, 16 << 10);
    readerB = real.attach(b, sharedB); // creator gone, another process attached
    orphanC = real.orphan(unattributed, 0x5300, 4 << 10);
  }

  @AfterEach
  void killEverything() throws Exception {
    real.close();
  }

  Findings survey(Policy policy) throws Exception {
    Survey.Config config =
        new Survey.Config(
            proc,
            LinuxKernel.PROC,
            NamespaceCollector.nsInode(Path.of("/proc/self/ns/ipc")),
            proc.resolve("no-kubelet"),
            proc.resolve("no-shared"));
    return new Survey(
            config,
            kernel,
            PodDirectory.OFFLINE,
            Ledger.inMemory(),
            PolicyResolver.fixed(policy),
            Clock.systemUTC())
        .run();
  }

  List<Decision> reap(Findings f) {
    return new Reaper(kernel, LinuxKernel.PROC, false, d -> {}).reap(f.segments(), f.namespaces());
  }

  static Map<String, Finding> byId(Findings f) {
    return f.segments().stream()
        .collect(
            Collectors.toMap(x -> x.segment().ipcNamespace() + "/" + x.segment().shmid(), x -> x));
  }

  @Test
  void everySegmentInEveryNamespaceIsFoundAndAttributed() throws Exception {
    Findings f = survey(DELETE_NOW);
    Map<String, Finding> s = byId(f);

    assertThat(f.namespaces())
        .extracting(n -> n.namespace().inode())
        .containsExactlyInAnyOrder(a.inode(), b.inode(), unattributed.inode());
    assertThat(f.namespaces()).allSatisfy(n -> assertThat(n.problem()).isNull());
    assertThat(s.keySet())
        .containsExactlyInAnyOrder(
            a.inode() + "/" + orphanA,
            a.inode() + "/" + attachedA.shmid(),
            a.inode() + "/" + liveA.shmid(),
            b.inode() + "/" + orphanB,
            b.inode() + "/" + sharedB,
            unattributed.inode() + "/" + orphanC);

    Finding oa = s.get(a.inode() + "/" + orphanA);
    assertThat(oa.attribution().source()).isEqualTo(Attribution.Source.POD_NAMESPACE);
    assertThat(oa.attribution().podUid()).isEqualTo(POD_A);
    assertThat(oa.segment().key()).isEqualTo(0x5100);
    assertThat(oa.segment().bytes()).isEqualTo(64 << 10);
    assertThat(oa.judgement().verdict()).isEqualTo(Verdict.Remove);
    assertThat(s.get(a.inode() + "/" + attachedA.shmid()).judgement().verdict())
        .isEqualTo(Verdict.InUse);
    assertThat(s.get(a.inode() + "/" + attachedA.shmid()).segment().rssBytes())
        .isGreaterThanOrEqualTo(4096);
    assertThat(s.get(a.inode() + "/" + liveA.shmid()).judgement().verdict())
        .isEqualTo(Verdict.OwnerAlive);
    assertThat(s.get(b.inode() + "/" + orphanB).attribution().podUid()).isEqualTo(POD_B);
    assertThat(s.get(b.inode() + "/" + orphanB).segment().bytes()).isEqualTo(1 << 20);
    assertThat(s.get(b.inode() + "/" + sharedB).judgement().verdict()).isEqualTo(Verdict.InUse);
    assertThat(s.get(unattributed.inode() + "/" + orphanC).judgement().verdict())
        .isEqualTo(Verdict.Unattributed);
  }

  @Test
  void underReportNothingIsRemoved() throws Exception {
    List<Decision> decisions = reap(survey(new Policy(OrphanPolicy.Report, Duration.ZERO, "test")));

    assertThat(decisions).extracting(Decision::action).containsOnly(Action.Kept);
    assertThat(real.shmids(a)).containsExactlyInAnyOrder(orphanA, attachedA.shmid(), liveA.shmid());
    assertThat(real.shmids(b)).containsExactlyInAnyOrder(orphanB, sharedB);
  }

  @Test
  void withinTheGracePeriodNothingIsRemovedEvenUnderDelete() throws Exception {
    List<Decision> decisions =
        reap(survey(new Policy(OrphanPolicy.Delete, Duration.ofHours(1), "test")));

    assertThat(decisions).extracting(Decision::action).containsOnly(Action.Kept);
    assertThat(decisions)
        .filteredOn(
            d ->
                d.finding().segment().shmid() == orphanA
                    && d.finding().segment().ipcNamespace() == a.inode())
        .singleElement()
        .satisfies(
            d -> assertThat(d.finding().judgement().verdict()).isEqualTo(Verdict.WithinGrace));
    assertThat(real.shmids(a)).hasSize(3);
    assertThat(real.shmids(b)).hasSize(2);
  }

  @Test
  void pastTheGracePeriodUnderDeleteOnlyAttributedOrphansAreRemoved() throws Exception {
    List<Decision> decisions = reap(survey(DELETE_NOW));

    assertThat(decisions)
        .filteredOn(d -> d.action() == Action.Removed)
        .extracting(d -> d.finding().segment().ipcNamespace() + "/" + d.finding().segment().shmid())
        .containsExactlyInAnyOrder(a.inode() + "/" + orphanA, b.inode() + "/" + orphanB);
    assertThat(real.shmids(a))
        .as("attached and live-creator segments stay")
        .containsExactlyInAnyOrder(attachedA.shmid(), liveA.shmid());
    assertThat(real.shmids(b)).as("a segment with a live attacher stays").containsExactly(sharedB);
    assertThat(real.shmids(unattributed))
        .as("unattributed segments are never removed")
        .containsExactly(orphanC);
  }

  @Test
  void aSegmentWhoseLastUserLeftIsRemovedOnTheNextPassOnly() throws Exception {
    readerB.kill();
    Findings f = survey(DELETE_NOW);
    assertThat(byId(f).get(b.inode() + "/" + sharedB).judgement().verdict())
        .isEqualTo(Verdict.Remove);
    reap(f);
    assertThat(real.shmids(b)).isEmpty();
  }

  @Test
  void aSegmentRemovedAndRecreatedWithTheSameKeyBetweenJudgementAndActionIsNotRemoved()
      throws Exception {
    Findings judged = survey(DELETE_NOW);
    int recreated = real.recreate(a, 0x5100, 64 << 10);

    List<Decision> decisions = reap(judged);

    assertThat(recreated).isNotEqualTo(orphanA);
    assertThat(decisions)
        .filteredOn(
            d ->
                d.finding().segment().ipcNamespace() == a.inode()
                    && d.finding().segment().shmid() == orphanA)
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.action()).isEqualTo(Action.Spared);
              assertThat(d.reason()).contains("no longer exists");
            });
    assertThat(real.segments(a))
        .filteredOn(s -> s.key() == 0x5100)
        .singleElement()
        .satisfies(s -> assertThat(s.shmid()).isEqualTo(recreated));
  }

  @Test
  void aSegmentAttachedBetweenJudgementAndActionIsNotRemoved() throws Exception {
    Findings judged = survey(DELETE_NOW);
    real.attach(a, orphanA);

    List<Decision> decisions = reap(judged);

    assertThat(decisions)
        .filteredOn(
            d ->
                d.finding().segment().shmid() == orphanA
                    && d.finding().segment().ipcNamespace() == a.inode())
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.action()).isEqualTo(Action.Spared);
              assertThat(d.reason()).contains("attached again");
            });
    assertThat(real.shmids(a)).contains(orphanA);
  }

  @Test
  void aNamespaceWhoseLastProcessExitedBeforeSetnsIsSkipped() throws Exception {
    Ns doomed = real.newNamespace();
    real.orphan(doomed, 0x5400, 4096);
    real.kill(doomed);

    assertThatThrownBy(() -> kernel.inIpcNamespace(doomed.ref(), s -> s.readSysvShm()))
        .isInstanceOf(NamespaceUnavailableException.class)
        .hasMessageContaining("is gone");
    assertThat(survey(DELETE_NOW).segments()).hasSize(6);
  }
}
