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

  /** A process in namespace {@code inode} with the given cgroup file content (null: no cgroup file). */
  public ProcFixture process(int pid, long inode, String cgroup) {
    return link(pid, "ipc:[" + inode + "]", cgroup);
  }

  /** A process whose ns/ipc links to a real process's namespace file. */
  public ProcFixture realNamespace(int fixturePid, long realPid, String cgroup) {
    return link(fixturePid, "/proc/" + realPid + "/ns/ipc", cgroup);
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

  /** cgroup v2, systemd driver, containerd: the most common layout today. */
  public static String podCgroup(String podUid) {
    return "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + podUid.replace('-', '_')
        + ".slice/cri-containerd-" + "ab".repeat(32) + ".scope\n";
  }

  public static final String HOST_CGROUP = "0::/system.slice/sshd.service\n";
}
