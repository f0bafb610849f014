package dev.sharedipc.agent.scan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.agent.kernel.LinuxKernel;
import dev.sharedipc.agent.testing.RealNamespaces;
import dev.sharedipc.agent.verdict.Liveness;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Start times against pid reuse, on the real kernel: the real creator of a real segment is its
 * creator (the clocks' truncation never disowns it), and a real process of the same namespace that
 * started after the segment's ctime is not, whatever pid the segment names. The kernel cannot be
 * made to reuse a pid on demand without changing node-wide settings, so the second case names the
 * later process's pid in a copy of the segment: start time, boot time and ctime are the kernel's.
 */
class ProcessTableIT {
  RealNamespaces real;
  RealNamespaces.Ns ns;
  Process later;

  @BeforeEach
  void namespace() throws Exception {
    real = new RealNamespaces();
    ns = real.newNamespace();
  }

  @AfterEach
  void cleanUp() throws Exception {
    if (later != null) {
      later.destroyForcibly();
      later.waitFor(10, TimeUnit.SECONDS);
    }
    real.close();
  }

  @Test
  void theRealCreatorIsAliveAndAProcessStartedAfterCtimeIsNotTheCreator() throws Exception {
    RealNamespaces.Handle creator = real.live(ns, 0x5eed, 4096);
    Segment s =
        real.segments(ns).stream()
            .filter(x -> x.shmid() == creator.shmid())
            .findFirst()
            .orElseThrow();

    assertThat(Liveness.of(s, new ProcessTable(LinuxKernel.PROC)).creatorAlive())
        .as("the real creator")
        .isTrue();

    // btime is truncated to the second: only a start 2 s past the ctime second is provably after it
    await("two seconds after the segment's ctime")
        .atMost(Duration.ofSeconds(6))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> System.currentTimeMillis() >= (s.ctime() + 2) * 1000 + 200);
    later =
        new ProcessBuilder("nsenter", "--ipc=/proc/" + ns.pid() + "/ns/ipc", "sleep", "600")
            .start();
    int pid = (int) later.pid();
    await("the later process in the namespace")
        .atMost(RealNamespaces.timeout())
        .pollInterval(Duration.ofMillis(20))
        .until(() -> NamespaceCollector.nsInode(Path.of("/proc/" + pid + "/ns/ipc")) == ns.inode());
    Segment namingTheLaterPid =
        new Segment(
            s.ipcNamespace(),
            s.key(),
            s.shmid(),
            s.mode(),
            s.bytes(),
            pid,
            pid,
            s.nattch(),
            s.uid(),
            s.gid(),
            s.cuid(),
            s.cgid(),
            s.atime(),
            s.dtime(),
            s.ctime(),
            s.rssBytes(),
            s.swapBytes());

    ProcessTable table = new ProcessTable(LinuxKernel.PROC);
    assertThat(table.aliveIn(pid, ns.inode()))
        .as("the later process is alive in the namespace")
        .isTrue();
    assertThat(Liveness.of(namingTheLaterPid, table))
        .as("but neither created nor last used the segment")
        .isEqualTo(new Liveness(false, false));
  }
}
