package dev.sharedipc.agent.kernel;

/**
 * One segment as {@code shmctl(IPC_STAT)} returns it: what the reaper compares with what it judged,
 * immediately before removal. Times are seconds since the epoch (0: never).
 */
public record ShmStat(
    int shmid,
    int key,
    int mode,
    long bytes,
    int uid,
    int gid,
    int cuid,
    int cgid,
    long atime,
    long dtime,
    long ctime,
    int cpid,
    int lpid,
    long nattch) {

  /** SHM_DEST: IPC_RMID was called already; the kernel frees it at the last detach. */
  public static final int SHM_DEST = 01000;

  public boolean markedForRemoval() {
    return (mode & SHM_DEST) != 0;
  }
}
