package dev.sharedipc.agent.scan;

/**
 * One System V semaphore set as one line of {@code /proc/sysvipc/sem} describes it, tagged with the
 * IPC namespace it was read from. Times are seconds since the epoch (0: never). Semaphores have no
 * attach count, so nothing about a set says whether it is still in use: the agent inventories and
 * reports them and never removes one (systemd-logind's RemoveIPC does, and breaks PostgreSQL).
 */
public record SemaphoreSet(
    long ipcNamespace,
    int key,
    int semid,
    int mode,
    long nsems,
    int uid,
    int gid,
    int cuid,
    int cgid,
    long otime,
    long ctime) {

  public String keyHex() {
    return String.format("0x%08x", key);
  }

  public String permsOctal() {
    return String.format("%03o", mode & 0777);
  }
}
