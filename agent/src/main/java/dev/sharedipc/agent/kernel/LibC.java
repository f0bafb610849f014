package dev.sharedipc.agent.kernel;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

/**
 * The few libc functions the agent calls, bound by JNA direct mapping (cheaper per call than
 * interface mapping, which matters when a scan stats thousands of segments). Callers read {@link
 * Native#getLastError()} right after a failed call; JNA saves errno for direct calls.
 */
final class LibC {
  static {
    if (!Platform.isLinux()) {
      throw new UnsupportedOperationException(
          "sharedipc-agent needs Linux (System V IPC namespaces, setns); this is "
              + System.getProperty("os.name"));
    }
    Native.register(NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
  }

  static final int IPC_CREAT = 01000;
  static final int IPC_EXCL = 02000;
  static final int IPC_RMID = 0;
  static final int IPC_STAT = 2;
  static final int IPC_INFO = 3;
  static final int SHM_STAT = 13;
  static final int SHM_INFO = 14;
  static final int SHM_STAT_ANY = 15;
  static final int CLONE_NEWIPC = 0x08000000;
  static final int O_RDONLY = 0;
  static final int O_CLOEXEC = 02000000;

  static final int EPERM = 1;
  static final int ENOENT = 2;
  static final int ESRCH = 3;
  static final int EACCES = 13;
  static final int EEXIST = 17;
  static final int EINVAL = 22;
  static final int ENOSPC = 28;
  static final int EIDRM = 43;
  static final int ENOSYS = 38;

  static native int shmget(int key, long size, int shmflg);

  static native Pointer shmat(int shmid, Pointer shmaddr, int shmflg);

  static native int shmdt(Pointer shmaddr);

  static native int shmctl(int shmid, int cmd, Pointer buf);

  static native int setns(int fd, int nstype);

  static native int open(String path, int flags);

  static native int close(int fd);

  static native int statfs(String path, Pointer buf);

  static native String strerror(int errnum);

  private LibC() {}
}
