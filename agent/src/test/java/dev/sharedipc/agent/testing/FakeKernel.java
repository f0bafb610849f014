package dev.sharedipc.agent.testing;

import dev.sharedipc.agent.kernel.FsUsage;
import dev.sharedipc.agent.kernel.Kernel;
import dev.sharedipc.agent.kernel.KernelException;
import dev.sharedipc.agent.kernel.NamespaceRef;
import dev.sharedipc.agent.kernel.NamespaceSession;
import dev.sharedipc.agent.kernel.NamespaceUnavailableException;
import dev.sharedipc.agent.kernel.ShmLimits;
import dev.sharedipc.agent.kernel.ShmStat;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * An in-memory kernel for unit tests: per namespace inode, the text of /proc/sysvipc/shm and the
 * IPC_STAT answers; namespaces can be made to vanish. Records every IPC_RMID.
 */
public final class FakeKernel implements Kernel {
  public final Map<Long, String> sysvShm = new HashMap<>();

  /**
   * Per namespace inode, the text of /proc/sysvipc/sem and /proc/sysvipc/msg (absent: an empty
   * table).
   */
  public final Map<Long, String> sysvSem = new HashMap<>();

  public final Map<Long, String> sysvMsg = new HashMap<>();
  public final Map<Long, Map<Integer, ShmStat>> stats = new HashMap<>();
  public final Set<Long> gone = new HashSet<>();
  public final Set<Long> forbidden = new HashSet<>();
  public final List<String> removed = new ArrayList<>();
  public final Map<Path, FsUsage> filesystems = new HashMap<>();
  public final List<Long> visits = new ArrayList<>();

  /** The visit, done at once on the caller's thread. */
  @Override
  public <T> java.util.concurrent.CompletableFuture<T> startInIpcNamespace(
      NamespaceRef ns, NamespaceWork<T> work) {
    try {
      return java.util.concurrent.CompletableFuture.completedFuture(inIpcNamespace(ns, work));
    } catch (Exception e) {
      return java.util.concurrent.CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public <T> T inIpcNamespace(NamespaceRef ns, NamespaceWork<T> work) throws Exception {
    visits.add(ns.inode());
    if (gone.contains(ns.inode())) {
      throw new NamespaceUnavailableException(
          "ipc:[" + ns.inode() + "] is gone (no process left in it)", true);
    }
    if (forbidden.contains(ns.inode())) {
      throw new NamespaceUnavailableException("setns failed: EPERM", false);
    }
    long inode = ns.inode();
    return work.run(
        new NamespaceSession() {
          @Override
          public byte[] readSysvShm() {
            return sysvShm.getOrDefault(inode, HEADER).getBytes(StandardCharsets.US_ASCII);
          }

          @Override
          public byte[] readSysvSem() {
            return sysvSem.getOrDefault(inode, SEM_HEADER).getBytes(StandardCharsets.US_ASCII);
          }

          @Override
          public byte[] readSysvMsg() {
            return sysvMsg.getOrDefault(inode, MSG_HEADER).getBytes(StandardCharsets.US_ASCII);
          }

          @Override
          public ShmStat stat(int shmid) throws KernelException {
            ShmStat s = stats.getOrDefault(inode, Map.of()).get(shmid);
            if (s == null) {
              throw new KernelException("shmctl(IPC_STAT, shmid=" + shmid + ")", 22, "");
            }
            return s;
          }

          @Override
          public void remove(int shmid) throws KernelException {
            if (stats.getOrDefault(inode, Map.of()).remove(shmid) == null) {
              throw new KernelException("shmctl(IPC_RMID, shmid=" + shmid + ")", 22, "");
            }
            removed.add(inode + "/" + shmid);
          }
        });
  }

  @Override
  public Optional<ShmLimits> limits() {
    return Optional.of(new ShmLimits(STOCK_SHMMAX, STOCK_SHMMAX, 4096, 0, 0, 0, 0, 0));
  }

  @Override
  public Optional<FsUsage> statfs(Path path) {
    return Optional.ofNullable(filesystems.get(path));
  }

  /** The stock kernel.shmmax and kernel.shmall: ULONG_MAX - 2^24, beyond a signed long. */
  public static final java.math.BigInteger STOCK_SHMMAX =
      new java.math.BigInteger("18446744073692774399");

  public static final String HEADER =
      "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n";

  /** One /proc/sysvipc/shm line, formatted as the kernel does. */
  public static String line(
      int key,
      int shmid,
      int perms,
      long size,
      int cpid,
      int lpid,
      long nattch,
      long atime,
      long dtime,
      long ctime) {
    return String.format(
        "%10d %10d  %4o %21d %5d %5d  %5d %5d %5d %5d %5d %10d %10d %10d %21d %21d%n",
        key, shmid, perms, size, cpid, lpid, nattch, 0, 0, 0, 0, atime, dtime, ctime, size, 0);
  }

  /** Adds a segment to a namespace: its line in /proc/sysvipc/shm and its IPC_STAT answer. */
  public FakeKernel segment(
      long ns,
      int key,
      int shmid,
      long size,
      int cpid,
      int lpid,
      long nattch,
      long atime,
      long dtime,
      long ctime) {
    sysvShm.merge(
        ns,
        HEADER + line(key, shmid, 0600, size, cpid, lpid, nattch, atime, dtime, ctime),
        (a, b) -> a + b.substring(HEADER.length()));
    stats
        .computeIfAbsent(ns, k -> new HashMap<>())
        .put(
            shmid,
            new ShmStat(
                shmid, key, 0600, size, 0, 0, 0, 0, atime, dtime, ctime, cpid, lpid, nattch));
    return this;
  }

  public static final String SEM_HEADER =
      "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n";
  public static final String MSG_HEADER =
      "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n";

  /** Adds a semaphore set to a namespace's /proc/sysvipc/sem, formatted as the kernel does. */
  public FakeKernel semaphoreSet(long ns, int key, int semid, long nsems, long otime, long ctime) {
    sysvSem.merge(
        ns,
        SEM_HEADER
            + String.format(
                "%10d %10d  %4o %10d %5d %5d %5d %5d %10d %10d%n",
                key, semid, 0600, nsems, 0, 0, 0, 0, otime, ctime),
        (a, b) -> a + b.substring(SEM_HEADER.length()));
    return this;
  }

  /** Adds a message queue to a namespace's /proc/sysvipc/msg, formatted as the kernel does. */
  public FakeKernel messageQueue(
      long ns, int key, int msqid, long bytes, long messages, int lspid, int lrpid, long ctime) {
    sysvMsg.merge(
        ns,
        MSG_HEADER
            + String.format(
                "%10d %10d  %4o  %10d %10d %5d %5d %5d %5d %5d %5d %10d %10d %10d%n",
                key, msqid, 0600, bytes, messages, lspid, lrpid, 0, 0, 0, 0, 0, 0, ctime),
        (a, b) -> a + b.substring(MSG_HEADER.length()));
    return this;
  }
}
