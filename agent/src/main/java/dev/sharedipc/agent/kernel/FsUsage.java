package dev.sharedipc.agent.kernel;

/**
 * statfs(2) of a mount: its filesystem type and size and use in bytes, and the device number
 * (stat(2) {@code st_dev}) that identifies the filesystem however many paths lead to it (bind
 * mounts, the same tmpfs in several containers); -1 when not known.
 */
public record FsUsage(long type, long sizeBytes, long usedBytes, long availableBytes, long device) {
  public static final long TMPFS_MAGIC = 0x01021994L;
  public static final long RAMFS_MAGIC = 0x858458f6L;

  /** A filesystem whose device is not known: it is never taken for another one. */
  public FsUsage(long type, long sizeBytes, long usedBytes, long availableBytes) {
    this(type, sizeBytes, usedBytes, availableBytes, -1);
  }

  /** tmpfs or ramfs: the pages live in memory (and are charged to a memory cgroup). */
  public boolean memoryBacked() {
    return type == TMPFS_MAGIC || type == RAMFS_MAGIC;
  }
}
