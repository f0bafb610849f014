package dev.sharedipc.agent.scan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.agent.attribution.Ledger;
import dev.sharedipc.agent.attribution.PodDirectory;
import dev.sharedipc.agent.cli.Render;
import dev.sharedipc.agent.kernel.LinuxKernel;
import dev.sharedipc.agent.reap.Action;
import dev.sharedipc.agent.reap.PosixObjectReaper;
import dev.sharedipc.agent.survey.Findings;
import dev.sharedipc.agent.survey.Survey;
import dev.sharedipc.agent.testing.ProcFixture;
import dev.sharedipc.agent.testing.ReadableProc;
import dev.sharedipc.agent.testing.Root;
import dev.sharedipc.agent.verdict.Policy;
import dev.sharedipc.agent.verdict.PolicyResolver;
import dev.sharedipc.agent.verdict.PosixObjectVerdict;
import dev.sharedipc.api.v1alpha1.OrphanPolicy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CSI driver's instance tmpfs in the agent's inventory, on the real kernel as root: a tmpfs of
 * 4 MiB at {@code <csi state dir>/instances/<namespace>_<group>_<uid>_<index>} as the driver mounts
 * it, bound as the {@code /dev/shm} of a member pod (a fixture process whose root holds the bind
 * mount), with an idle file in it. A pass under policy Delete (grace 1 min) reports the volume
 * once, as the instance's (group, instance, size, use; no pod), and its file as the instance's: not
 * the one member's /dev/shm, so the POSIX reaper keeps the file, though no process has it open and
 * the pod that mounts it would otherwise be its only owner.
 */
class CsiInstanceVolumeIT {
  private static final String POD = "c0000000-0000-4000-8000-00000000000c";
  private static final String GROUP_UID = "6f1c2d3e-0000-4000-8000-000000000001";
  private static final String INSTANCE = "trainers_pair_" + GROUP_UID + "_0";
  private static final long MiB = 1 << 20;

  @TempDir Path tmp;
  private final List<Path> mounts = new ArrayList<>();

  @BeforeEach
  void tools() {
    Root.require();
    Root.requireTool("mount");
    Root.requireTool("umount");
  }

  @AfterEach
  void unmount() throws Exception {
    for (Path m : mounts) {
      run("umount", m.toString());
    }
  }

  @Test
  void anInstanceTmpfsIsTheInstancesVolumeAndNothingInItIsReapedThoughOneMemberMountsItAsDevShm()
      throws Exception {
    Path stateDir = tmp.resolve("csi-state");
    Path instance =
        mount(
            Files.createDirectories(stateDir.resolve("instances").resolve(INSTANCE)),
            "-t",
            "tmpfs",
            "-o",
            "size=4m",
            "sharedipc-csi-it");
    Path frame = Files.write(instance.resolve("frame"), new byte[(int) MiB]);
    Files.setLastModifiedTime(frame, FileTime.from(Instant.now().minus(Duration.ofHours(1))));
    // a directory the driver made but has not mounted: no instance memory, not a volume
    Files.createDirectories(
        stateDir.resolve("instances").resolve("trainers_pair_" + GROUP_UID + "_1"));
    // the member's /dev/shm is a bind mount of the instance, as the kubelet's target is
    Path root = tmp.resolve("member-root");
    mount(Files.createDirectories(root.resolve("dev/shm")), "--bind", instance.toString());
    Path procRoot = Files.createDirectories(tmp.resolve("proc"));
    new ProcFixture(procRoot).process(101, 4026530001L, ProcFixture.podCgroup(POD));
    Files.createSymbolicLink(procRoot.resolve("101/root"), root);

    Findings f = survey(procRoot, stateDir);

    assertThat(f.volumes())
        .as("the instance's tmpfs, once, and not as the member's /dev/shm")
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.kind()).isEqualTo(MemoryVolume.Kind.CsiInstance);
              assertThat(v.path()).isEqualTo(instance.toString());
              assertThat(v.podUid()).as("no one pod's").isNull();
              assertThat(v.podNamespace()).isEqualTo("trainers");
              assertThat(v.group()).isEqualTo("pair");
              assertThat(v.instance()).isZero();
              assertThat(v.sizeBytes()).isEqualTo(4 * MiB);
              assertThat(v.usedBytes()).isBetween(MiB, MiB + 64 * 1024);
            });
    assertThat(f.posix().objects())
        .singleElement()
        .satisfies(
            o -> {
              assertThat(o.object().path()).isEqualTo(frame.toString());
              assertThat(o.object().volume().kind()).isEqualTo(MemoryVolume.Kind.CsiInstance);
              assertThat(o.judgement().verdict()).isEqualTo(PosixObjectVerdict.Unattributed);
            });
    // scan's volumes and POSIX objects views name the instance's group for both
    assertThat(Render.volumeTable(f.volumes()))
        .contains("CsiInstance", "trainers/pair", instance.toString());
    assertThat(Render.posixTable(f.posix().objects(), List.of()))
        .contains(frame.toString(), "trainers/pair", "Unattributed");
    assertThat(
            new PosixObjectReaper(List.of(ReadableProc.view(tmp)), false)
                .reap(f.posix(), Instant.now()))
        .allSatisfy(d -> assertThat(d.action()).isEqualTo(Action.Kept));
    assertThat(frame).exists();
  }

  private Findings survey(Path procRoot, Path stateDir) throws Exception {
    Survey.Config config =
        new Survey.Config(
            procRoot,
            LinuxKernel.PROC,
            NamespaceCollector.nsInode(Path.of("/proc/self/ns/ipc")),
            tmp.resolve("no-kubelet"),
            tmp.resolve("no-shared-root"),
            null,
            ReadableProc.view(tmp),
            stateDir);
    return new Survey(
            config,
            new LinuxKernel(),
            PodDirectory.OFFLINE,
            Ledger.inMemory(),
            PolicyResolver.fixed(
                new Policy(OrphanPolicy.Delete, Duration.ofMinutes(1), "--policy Delete")),
            Clock.systemUTC())
        .run();
  }

  private Path mount(Path dir, String... how) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("mount"));
    cmd.addAll(List.of(how));
    cmd.add(dir.toString());
    run(cmd.toArray(String[]::new));
    mounts.add(0, dir);
    return dir;
  }

  private static void run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
    }
  }
}
