package dev.sharedipc.agent.scan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.agent.attribution.Ledger;
import dev.sharedipc.agent.attribution.PodDirectory;
import dev.sharedipc.agent.kernel.LinuxKernel;
import dev.sharedipc.agent.survey.Findings;
import dev.sharedipc.agent.survey.Survey;
import dev.sharedipc.agent.testing.ProcFixture;
import dev.sharedipc.agent.testing.Root;
import dev.sharedipc.agent.verdict.Policy;
import dev.sharedipc.agent.verdict.PolicyResolver;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Memory volumes on the real kernel, as root: real tmpfs mounts (a memory emptyDir under a temp
 * kubelet root, a tmpfs that members mount at /dev/shm) and real processes in mount namespaces of
 * their own (a "pause" process whose /dev/shm is a sandbox tmpfs, members whose /dev/shm is a bind
 * mount), mapped to one pod by a fixture proc root. A whole pass runs on them. Nothing is mounted
 * outside the temp dir in the test's own mount namespace; every process is killed and every mount
 * undone after each test.
 */
class VolumeCollectorIT {
  static final String POD = "aaaaaaaa-0000-4000-8000-0000000000a1";
  static final long MiB = 1 << 20;

  @TempDir Path tmp;
  Path proc;
  Path kubelet;
  final List<Process> started = new ArrayList<>();
  final List<Path> mounts = new ArrayList<>();

  @BeforeEach
  void tools() throws Exception {
    Root.require();
    for (String tool : List.of("mount", "umount", "unshare", "nsenter", "bash", "sleep", "head")) {
      Root.requireTool(tool);
    }
    proc = Files.createDirectory(tmp.resolve("proc"));
    kubelet = Files.createDirectory(tmp.resolve("kubelet"));
  }

  @AfterEach
  void cleanUp() throws Exception {
    for (Process p : started) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
    for (Path m : mounts) {
      run("umount", m.toString());
    }
  }

  @Test
  void anEmptyDirMountedAtTheMembersDevShmIsCountedOnce() throws Exception {
    Path emptyDir =
        tmpfs(kubelet.resolve("pods/" + POD + "/volumes/kubernetes.io~empty-dir/shm"), MiB);
    Process member =
        start(
            "unshare",
            "--ipc",
            "--mount",
            "--propagation",
            "private",
            "bash",
            "-c",
            "mount --bind " + emptyDir + " /dev/shm && echo ready && exec sleep 600");
    new ProcFixture(proc).realProcess(101, member.pid(), ProcFixture.podCgroup(POD));

    Findings f = survey();

    assertThat(f.volumes())
        .as("the emptyDir, and not again as the member's /dev/shm")
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.kind()).isEqualTo(MemoryVolume.Kind.EmptyDir);
              assertThat(v.podUid()).isEqualTo(POD);
              assertThat(v.usedBytes()).isBetween(MiB, MiB + 64 * 1024);
            });
  }

  @Test
  void aPodsDevShmIsReadFromItsMembersNotFromThePauseProcess() throws Exception {
    // the sandbox: its own mount namespace with its own /dev/shm holding 2 MiB, argv[0] /pause as
    // the runtimes' image has
    Process pause =
        start(
            "unshare",
            "--ipc",
            "--mount",
            "--propagation",
            "private",
            "bash",
            "-c",
            "mount -t tmpfs -o size=8m sharedipc-it-sandbox /dev/shm && head -c "
                + 2 * MiB
                + " /dev/zero > /dev/shm/sandbox"
                + " && echo ready && exec -a /pause sleep 600");
    // two member containers of the pod (in its IPC namespace), both with one tmpfs holding 1 MiB at
    // /dev/shm
    Path memberShm = tmpfs(tmp.resolve("member-shm"), MiB);
    List<Process> members = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      members.add(
          start(
              "nsenter",
              "--ipc=/proc/" + pause.pid() + "/ns/ipc",
              "unshare",
              "--mount",
              "--propagation",
              "private",
              "bash",
              "-c",
              "mount --bind " + memberShm + " /dev/shm && echo ready && exec sleep 600"));
    }
    new ProcFixture(proc)
        .realProcess(100, pause.pid(), ProcFixture.podCgroup(POD))
        .realProcess(101, members.get(0).pid(), ProcFixture.podCgroup(POD))
        .realProcess(102, members.get(1).pid(), ProcFixture.podCgroup(POD));

    Findings f = survey();

    assertThat(f.volumes())
        .as("one /dev/shm for the pod, the members'")
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.kind()).isEqualTo(MemoryVolume.Kind.DevShm);
              assertThat(v.podUid()).isEqualTo(POD);
              assertThat(v.usedBytes())
                  .as("the members' 1 MiB, not the sandbox's 2 MiB")
                  .isBetween(MiB, MiB + 64 * 1024);
            });
  }

  Findings survey() throws Exception {
    long host = NamespaceCollector.nsInode(Path.of("/proc/self/ns/ipc"));
    Survey.Config config = new Survey.Config(proc, LinuxKernel.PROC, host, kubelet, null);
    return new Survey(
            config,
            new LinuxKernel(),
            PodDirectory.OFFLINE,
            Ledger.inMemory(),
            PolicyResolver.fixed(Policy.UNKNOWN),
            Clock.systemUTC())
        .run();
  }

  /**
   * A tmpfs mounted at {@code dir} in the test's mount namespace, with {@code used} bytes written
   * in it.
   */
  Path tmpfs(Path dir, long used) throws Exception {
    Files.createDirectories(dir);
    run("mount", "-t", "tmpfs", "-o", "size=8m", "sharedipc-it", dir.toString());
    mounts.add(0, dir);
    Files.write(dir.resolve("data"), new byte[(int) used]);
    return dir;
  }

  /** Starts a process and waits for its "ready" line (its mounts are then in place). */
  Process start(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    started.add(p);
    String line =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))
            .readLine();
    assertThat(line).as("%s", String.join(" ", cmd)).isEqualTo("ready");
    return p;
  }

  static void run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
    }
  }
}
