package dev.sharedipc.agent.kernel;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import java.nio.file.Path;
import java.util.List;

/**
 * Files reached through directory descriptors, never through a symbolic link: {@code openat} with
 * {@code O_NOFOLLOW|O_DIRECTORY} for each path component, {@code fstatat} with
 * {@code AT_SYMLINK_NOFOLLOW}, {@code unlinkat}. This is how the agent re-checks and removes a
 * POSIX shared-memory object: a directory swapped for a link between the judgement and the removal
 * makes the open fail (ELOOP/ENOTDIR) instead of leading elsewhere on the host.
 *
 * <p>{@code struct stat} offsets for the two 64-bit ABIs the agent supports: dev, ino, size, blocks
 * and the three timespecs sit at the same places on x86_64 and aarch64; mode does not (checked
 * against the C headers by {@code KernelIT}).
 */
public final class AtFiles {
  private static final int AT_FDCWD = -100;
  private static final int AT_SYMLINK_NOFOLLOW = 0x100;
  private static final int O_RDONLY = 0;
  private static final int O_DIRECTORY = 0200000;
  private static final int O_NOFOLLOW = 0400000;
  private static final int O_CLOEXEC = 02000000;

  static final int STAT_SIZE = Platform.isIntel() ? 144 : 128;
  static final int ST_DEV = 0;
  static final int ST_INO = 8;
  static final int ST_MODE = Platform.isIntel() ? 24 : 16;
  static final int ST_UID = Platform.isIntel() ? 28 : 24;
  static final int ST_GID = Platform.isIntel() ? 32 : 28;
  static final int ST_SIZE = 48;
  static final int ST_BLOCKS = 64;
  static final int ST_MTIM = 88;
  static final int ST_CTIM = 104;

  private static final boolean AVAILABLE = register();
  /** One stat buffer per thread: a pass stats thousands of files, and native memory is not free to allocate. */
  private static final ThreadLocal<Memory> BUFFER = ThreadLocal.withInitial(() -> new Memory(STAT_SIZE));

  private AtFiles() {}

  private static boolean register() {
    if (!Platform.isLinux() || !Layout.SUPPORTED) {
      return false;
    }
    try {
      Native.register(AtFiles.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
      return true;
    } catch (UnsatisfiedLinkError e) {
      return false; // glibc before 2.33 exports only __fxstatat
    }
  }

  private static native int openat(int dirfd, String path, int flags);

  private static native int fstatat(int dirfd, String path, Memory buf, int flags);

  private static native int unlinkat(int dirfd, String path, int flags);

  private static native int close(int fd);

  /** What {@code lstat} says of one entry. Times are nanoseconds since the epoch. */
  public record Stat(long dev, long ino, int mode, int uid, int gid, long size, long allocatedBytes, long mtimeNanos,
      long ctimeNanos) {
    public boolean regular() {
      return (mode & 0170000) == 0100000;
    }
  }

  /** Whether these calls can be made here (Linux, a supported ABI, glibc 2.33+). */
  public static boolean available() {
    return AVAILABLE;
  }

  /** lstat of a path, or null when it cannot be read (gone, not allowed, or the calls are not available). */
  public static Stat lstat(String path) {
    if (!AVAILABLE) {
      return null;
    }
    Memory buf = BUFFER.get();
    return fstatat(AT_FDCWD, path, buf, AT_SYMLINK_NOFOLLOW) == 0 ? decode(buf) : null;
  }

  /** stat of what a path leads to (links followed: for /proc/PID/fd/N, the open file), or null when it cannot be read. */
  public static Stat statThrough(String path) {
    if (!AVAILABLE) {
      return null;
    }
    Memory buf = BUFFER.get();
    return fstatat(AT_FDCWD, path, buf, 0) == 0 ? decode(buf) : null;
  }

  private static Stat decode(Memory b) {
    return new Stat(b.getLong(ST_DEV), b.getLong(ST_INO), b.getInt(ST_MODE), b.getInt(ST_UID), b.getInt(ST_GID), b.getLong(ST_SIZE),
        b.getLong(ST_BLOCKS) * 512,
        b.getLong(ST_MTIM) * 1_000_000_000L + b.getLong(ST_MTIM + 8), b.getLong(ST_CTIM) * 1_000_000_000L + b.getLong(ST_CTIM + 8));
  }

  /**
   * Opens {@code root} and then each of {@code components} below it as directories, refusing a
   * symbolic link at every step (the root included).
   */
  public static Directory openDirectory(Path root, List<String> components) throws KernelException {
    if (!AVAILABLE) {
      throw new KernelException("openat(" + root + ")", LibC.ENOSYS, "fstatat/openat are not available in this libc");
    }
    int fd = openat(AT_FDCWD, root.toString(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      throw new KernelException("openat(" + root + ", O_DIRECTORY|O_NOFOLLOW)", Native.getLastError(), null);
    }
    String at = root.toString();
    for (String c : components) {
      int next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      int errno = Native.getLastError();
      close(fd);
      at = at + "/" + c;
      if (next < 0) {
        throw new KernelException("openat(" + at + ", O_DIRECTORY|O_NOFOLLOW)", errno,
            "a path component is missing, not a directory or a symbolic link; nothing was followed");
      }
      fd = next;
    }
    return new Directory(fd, at);
  }

  /** An open directory: entries are read and removed relative to it. */
  public static final class Directory implements AutoCloseable {
    private final int fd;
    private final String path;

    private Directory(int fd, String path) {
      this.fd = fd;
      this.path = path;
    }

    /** lstat of an entry of this directory. */
    public Stat stat(String name) throws KernelException {
      Memory buf = new Memory(STAT_SIZE);
      if (fstatat(fd, name, buf, AT_SYMLINK_NOFOLLOW) != 0) {
        throw new KernelException("fstatat(" + path + "/" + name + ", AT_SYMLINK_NOFOLLOW)", Native.getLastError(), null);
      }
      return decode(buf);
    }

    /** unlinkat of a (non-directory) entry of this directory. */
    public void unlink(String name) throws KernelException {
      if (unlinkat(fd, name, 0) != 0) {
        throw new KernelException("unlinkat(" + path + "/" + name + ")", Native.getLastError(), null);
      }
    }

    @Override
    public void close() {
      AtFiles.close(fd);
    }
  }
}
