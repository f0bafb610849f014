package dev.sharedipc.agent.scan;

/**
 * One System V message queue as one line of {@code /proc/sysvipc/msg} describes it, tagged with the
 * IPC namespace it was read from: bytes and messages queued, the last sender and receiver pids, and
 * times in seconds since the epoch (0: never). Inventoried and reported, never removed: a queue has
 * no attach count either.
 */
public record MessageQueue(
    long ipcNamespace,
    int key,
    int msqid,
    int mode,
    long queuedBytes,
    long messages,
    int lastSendPid,
    int lastReceivePid,
    int uid,
    int gid,
    int cuid,
    int cgid,
    long stime,
    long rtime,
    long ctime) {

  public String keyHex() {
    return String.format("0x%08x", key);
  }

  public String permsOctal() {
    return String.format("%03o", mode & 0777);
  }
}
