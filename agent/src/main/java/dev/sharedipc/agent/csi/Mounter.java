package dev.sharedipc.agent.csi;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * The mount syscalls the CSI node plugin makes: the one seam between {@link InstanceVolumes} and
 * the kernel. {@link LinuxMounter} makes them.
 */
public interface Mounter {
  /**
   * Mounts a tmpfs of {@code sizeBytes} at {@code dir}, root-owned, group {@code gid}, mode 2770.
   */
  void mountTmpfs(Path dir, long sizeBytes, int gid) throws IOException;

  /** Sets the size of the tmpfs at {@code dir} in place (a remount keeps its files). */
  void resizeTmpfs(Path dir, long sizeBytes) throws IOException;

  /** Bind-mounts {@code source} at {@code target}. */
  void bind(Path source, Path target) throws IOException;

  /** Makes the bind mount whose root {@code target} is read-only (and nosuid, nodev). */
  void remountReadOnly(Path target) throws IOException;

  /**
   * Unmounts {@code dir}; detaches it lazily if it is busy, so its memory goes with its last user.
   */
  void unmount(Path dir) throws IOException;

  /** The mounts of this mount namespace now, by mount point: the one on top at each. */
  Map<String, MountTable.Mount> mounts() throws IOException;

  /** The mount points of this mount namespace now. */
  default Set<String> mountPoints() throws IOException {
    return mounts().keySet();
  }
}
