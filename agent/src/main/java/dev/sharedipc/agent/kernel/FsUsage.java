package dev.sharedipc.agent.kernel;

/** statfs(2) of a mount: its filesystem type and size and use in bytes. */
public record FsUsage(long type, long sizeBytes, long usedBytes, long availableBytes) {
  public static final long TMPFS_MAGIC = 0x01021994L;
  public static final long RAMFS_MAGIC = 0x858458f6L;

  /** tmpfs or ramfs: the pages live in memory (and are charged to a memory cgroup). */
  public boolean memoryBacked() {
    return type == TMPFS_MAGIC || type == RAMFS_MAGIC;
  }
}
