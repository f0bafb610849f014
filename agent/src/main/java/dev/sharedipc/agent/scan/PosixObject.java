package dev.sharedipc.agent.scan;

import dev.sharedipc.agent.scan.OpenFileUsers.FileId;

/**
 * One POSIX shared-memory object: an entry in a memory-backed volume (a pod's /dev/shm, a memory
 * emptyDir, a SameNode shared directory, the host's /dev/shm), as {@code lstat} saw it. What {@code
 * shm_open(3)} creates is a file in /dev/shm, so PyTorch's, NCCL's, vLLM's and PostgreSQL's shared
 * memory are all here. {@code allocatedBytes} is what the memory cgroup pays, {@code apparentBytes}
 * the file size; times are nanoseconds since the epoch.
 *
 * @param volume the volume it lies in (its pod, when the volume names one)
 * @param name its path relative to the volume's root
 */
public record PosixObject(
    MemoryVolume volume,
    String name,
    FileKind kind,
    FileId id,
    long allocatedBytes,
    long apparentBytes,
    int uid,
    int gid,
    int mode,
    long mtimeNanos,
    long ctimeNanos) {

  /** What kind of directory entry it is, read with lstat (a link is a link, never its target). */
  public enum FileKind {
    Regular,
    Directory,
    SymbolicLink,
    Other
  }

  /** The absolute path on this host. */
  public String path() {
    return volume.path() + "/" + name;
  }

  public long mtimeEpochSecond() {
    return Math.floorDiv(mtimeNanos, 1_000_000_000L);
  }
}
