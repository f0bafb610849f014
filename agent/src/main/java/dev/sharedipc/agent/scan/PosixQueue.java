package dev.sharedipc.agent.scan;

/**
 * One POSIX message queue ({@code mq_open}) as its file in an IPC namespace's mqueue filesystem
 * shows it: name, owner, mode, times (seconds since the epoch) and {@code QSIZE}, the bytes of the
 * messages queued, from the file's content. Inventoried and reported, never removed: a queue has no
 * attach count.
 */
public record PosixQueue(
    long ipcNamespace,
    String name,
    int uid,
    int gid,
    int mode,
    long queuedBytes,
    long mtime,
    long ctime,
    String path) {

  public String permsOctal() {
    return String.format("%03o", mode & 0777);
  }
}
