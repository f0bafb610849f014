package dev.sharedipc.agent.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Builds fixture /proc trees: {@code <pid>/cgroup} files and {@code <pid>/ns/ipc} links, either
 * dangling links whose text is {@code ipc:[inode]} (as the kernel shows them) or links to a real
 * {@code /proc/<pid>/ns/ipc}.
 */
public final class ProcFixture {
  private final Path root;

  public ProcFixture(Path root) {
    this.root = root;
  }

  public Path root() {
    return root;
  }

  /**
   * A process in namespace {@code inode} with the given cgroup file content (null: no cgroup file).
   */
  public ProcFixture process(int pid, long inode, String cgroup) {
    return link(pid, "ipc:[" + inode + "]", cgroup);
  }

  /** A process whose ns/ipc links to a real process's namespace file. */
  public ProcFixture realNamespace(int fixturePid, long realPid, String cgroup) {
    return link(fixturePid, "/proc/" + realPid + "/ns/ipc", cgroup);
  }

  /**
   * A real process as a fixture pid: its {@code ns/ipc}, {@code ns/mnt}, {@code root} and {@code
   * cmdline} lead to the real process's, so its namespaces, its command and its view of the
   * filesystem are real.
   */
  public ProcFixture realProcess(int fixturePid, long realPid, String cgroup) {
    realNamespace(fixturePid, realPid, cgroup);
    Path dir = root.resolve(Integer.toString(fixturePid));
    Path real = Path.of("/proc/" + realPid);
    try {
      Files.createSymbolicLink(dir.resolve("ns/mnt"), real.resolve("ns/mnt"));
      Files.createSymbolicLink(dir.resolve("root"), real.resolve("root"));
      Files.createSymbolicLink(dir.resolve("cmdline"), real.resolve("cmdline"));
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private ProcFixture link(int pid, String target, String cgroup) {
    try {
      Path dir = root.resolve(Integer.toString(pid));
      Files.createDirectories(dir.resolve("ns"));
      Files.createSymbolicLink(dir.resolve("ns/ipc"), Path.of(target));
      if (cgroup != null) {
        Files.writeString(dir.resolve("cgroup"), cgroup);
      }
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * {@code /proc/stat} with this boot time (epoch seconds), so that process start times mean
   * something.
   */
  public ProcFixture booted(long btimeEpochSecond) {
    try {
      Files.writeString(
          root.resolve("stat"),
          "cpu  1 2 3 4 5 6 7 8 9 10\nbtime " + btimeEpochSecond + "\nprocesses 42\n");
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * {@code <pid>/stat} saying the process started {@code ticksSinceBoot} clock ticks (1/100 s)
   * after boot; the command name holds a space and a parenthesis, as real ones may.
   */
  public ProcFixture startedAtTick(int pid, long ticksSinceBoot) {
    StringBuilder line = new StringBuilder(pid + " (we ird) name) S");
    for (int field = 4; field <= 52; field++) {
      line.append(' ').append(field == 22 ? ticksSinceBoot : field);
    }
    try {
      Path dir = root.resolve(Integer.toString(pid));
      Files.createDirectories(dir);
      Files.writeString(dir.resolve("stat"), line.append('\n').toString());
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * As {@link #startedAtTick}, at a wall-clock second, given the boot time passed to {@link
   * #booted}.
   */
  public ProcFixture started(int pid, long btimeEpochSecond, long startEpochSecond) {
    return startedAtTick(pid, (startEpochSecond - btimeEpochSecond) * 100);
  }

  /** cgroup v2, systemd driver, containerd: the most common layout today. */
  public static String podCgroup(String podUid) {
    return "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"
        + podUid.replace('-', '_')
        + ".slice/cri-containerd-"
        + "ab".repeat(32)
        + ".scope\n";
  }

  public static final String HOST_CGROUP = "0::/system.slice/sshd.service\n";
}
