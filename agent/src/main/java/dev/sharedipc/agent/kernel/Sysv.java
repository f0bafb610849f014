package dev.sharedipc.agent.kernel;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.nio.file.Path;

/**
 * System V shared memory calls on the calling thread's IPC namespace. The agent only stats and
 * removes; {@link #create}, {@link #attach} and {@link #detach} exist for tests and the benchmark,
 * which make real segments inside namespaces they own.
 */
public final class Sysv {
  private static final long PAGE = 4096;

  private Sysv() {}

  /** shmctl(IPC_STAT). Root (CAP_IPC_OWNER) reads any segment. */
  public static ShmStat stat(int shmid) throws KernelException {
    Memory buf = new Memory(Layout.SHMID_DS_SIZE);
    if (LibC.shmctl(shmid, LibC.IPC_STAT, buf) < 0) {
      int errno = Native.getLastError();
      throw new KernelException(
          "shmctl(IPC_STAT, shmid=" + shmid + ")", errno, adviceFor(errno, "read"));
    }
    return decode(shmid, buf);
  }

  /**
   * shmctl(SHM_STAT_ANY) by kernel index (0..highest from {@link #limits()}), which needs no read
   * permission on the segment (Linux 4.17+). Returns null for an unused index.
   */
  public static ShmStat statIndex(int index) throws KernelException {
    Memory buf = new Memory(Layout.SHMID_DS_SIZE);
    int shmid = LibC.shmctl(index, LibC.SHM_STAT_ANY, buf);
    if (shmid < 0) {
      int errno = Native.getLastError();
      if (errno == LibC.EINVAL) {
        return null;
      }
      throw new KernelException(
          "shmctl(SHM_STAT_ANY, index=" + index + ")",
          errno,
          errno == LibC.EINVAL ? "" : adviceFor(errno, "read"));
    }
    return decode(shmid, buf);
  }

  /** shmctl(IPC_RMID): marks the segment; it goes at its last detach. */
  public static void remove(int shmid) throws KernelException {
    if (LibC.shmctl(shmid, LibC.IPC_RMID, Pointer.NULL) < 0) {
      int errno = Native.getLastError();
      throw new KernelException(
          "shmctl(IPC_RMID, shmid=" + shmid + ")", errno, adviceFor(errno, "remove"));
    }
  }

  /** shmctl(IPC_INFO) and shmctl(SHM_INFO) of the calling thread's namespace. */
  public static ShmLimits limits() throws KernelException {
    Memory info = new Memory(Layout.SHMINFO_SIZE);
    if (LibC.shmctl(0, LibC.IPC_INFO, info) < 0) {
      int errno = Native.getLastError();
      throw new KernelException("shmctl(IPC_INFO)", errno, "");
    }
    Memory usage = new Memory(Layout.SHM_INFO_SIZE);
    if (LibC.shmctl(0, LibC.SHM_INFO, usage) < 0) {
      int errno = Native.getLastError();
      throw new KernelException("shmctl(SHM_INFO)", errno, "");
    }
    long rmidForced = -1;
    try {
      rmidForced =
          Long.parseLong(
              new String(LinuxKernel.readProcFile(Path.of("/proc/sys/kernel/shm_rmid_forced")))
                  .trim());
    } catch (Exception e) {
      // not readable (old kernel or masked /proc/sys): reported as unknown (-1)
    }
    return new ShmLimits(
        ShmLimits.unsigned(info.getLong(Layout.SHMINFO_SHMMAX)),
        ShmLimits.unsigned(info.getLong(Layout.SHMINFO_SHMALL)),
        info.getLong(Layout.SHMINFO_SHMMNI),
        rmidForced,
        usage.getInt(Layout.SHM_INFO_USED_IDS),
        usage.getLong(Layout.SHM_INFO_TOT) * PAGE,
        usage.getLong(Layout.SHM_INFO_RSS) * PAGE,
        usage.getLong(Layout.SHM_INFO_SWP) * PAGE);
  }

  /** shmget(2). For tests and the benchmark only. */
  public static int create(int key, long bytes, int mode) throws KernelException {
    int shmid = LibC.shmget(key, bytes, LibC.IPC_CREAT | LibC.IPC_EXCL | (mode & 0777));
    if (shmid < 0) {
      int errno = Native.getLastError();
      throw new KernelException(
          "shmget(key=" + String.format("0x%08x", key) + ", bytes=" + bytes + ")",
          errno,
          errno == LibC.ENOSPC
              ? "the namespace is at kernel.shmmni segments or kernel.shmall pages"
              : "");
    }
    return shmid;
  }

  /** shmat(2). For tests and the benchmark only. */
  public static Pointer attach(int shmid) throws KernelException {
    Pointer p = LibC.shmat(shmid, Pointer.NULL, 0);
    if (Pointer.nativeValue(p) == -1L) {
      int errno = Native.getLastError();
      throw new KernelException("shmat(shmid=" + shmid + ")", errno, "");
    }
    return p;
  }

  /** shmdt(2). For tests and the benchmark only. */
  public static void detach(Pointer address) throws KernelException {
    if (LibC.shmdt(address) < 0) {
      int errno = Native.getLastError();
      throw new KernelException("shmdt", errno, "");
    }
  }

  private static ShmStat decode(int shmid, Memory b) {
    return new ShmStat(
        shmid,
        b.getInt(Layout.SHM_PERM_KEY),
        b.getShort(Layout.SHM_PERM_MODE) & 0xffff,
        b.getLong(Layout.SHM_SEGSZ),
        b.getInt(Layout.SHM_PERM_UID),
        b.getInt(Layout.SHM_PERM_GID),
        b.getInt(Layout.SHM_PERM_CUID),
        b.getInt(Layout.SHM_PERM_CGID),
        b.getLong(Layout.SHM_ATIME),
        b.getLong(Layout.SHM_DTIME),
        b.getLong(Layout.SHM_CTIME),
        b.getInt(Layout.SHM_CPID),
        b.getInt(Layout.SHM_LPID),
        b.getLong(Layout.SHM_NATTCH));
  }

  static String adviceFor(int errno, String what) {
    if (errno == LibC.EPERM || errno == LibC.EACCES) {
      return "the agent needs CAP_SYS_ADMIN (and CAP_IPC_OWNER to "
          + what
          + " others' segments) in the user namespace that owns this IPC namespace: run it as root, privileged, with hostPID";
    }
    if (errno == LibC.EINVAL || errno == LibC.EIDRM) {
      return "the segment no longer exists (removed since it was listed)";
    }
    return "";
  }
}
