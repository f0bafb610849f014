package dev.sharedipc.agent.scan;

/**
 * One System V shared memory segment as one line of {@code /proc/sysvipc/shm} describes it, tagged
 * with the IPC namespace it was read from. Times are seconds since the epoch (0: never); {@code
 * rssBytes} and {@code swapBytes} are -1 on kernels that do not print them.
 */
public record Segment(
    long ipcNamespace,
    int key,
    int shmid,
    int mode,
    long bytes,
    int cpid,
    int lpid,
    long nattch,
    int uid,
    int gid,
    int cuid,
    int cgid,
    long atime,
    long dtime,
    long ctime,
    long rssBytes,
    long swapBytes) {

  /** SHM_DEST: already marked for removal, freed by the kernel at its last detach. */
  public static final int SHM_DEST = 01000;

  public String keyHex() {
    return String.format("0x%08x", key);
  }

  public String permsOctal() {
    return String.format("%03o", mode & 0777);
  }

  public boolean markedForRemoval() {
    return (mode & SHM_DEST) != 0;
  }

  /** When a process last touched it: the latest of creation, attach and detach. */
  public long lastUseEpochSecond() {
    return Math.max(ctime, Math.max(atime, dtime));
  }
}
