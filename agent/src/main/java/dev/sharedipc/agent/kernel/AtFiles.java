package dev.sharedipc.agent.kernel;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import java.nio.file.Path;
import java.util.List;

/**
 * Files reached through directory descriptors, never through a symbolic link: {@code openat} with
 * {@code O_NOFOLLOW|O_DIRECTORY} for each path component, {@code fstatat} with {@code
 * AT_SYMLINK_NOFOLLOW}, {@code unlinkat}. This is how the agent re-checks and removes a POSIX
 * shared-memory object: a directory swapped for a link between the judgement and the removal makes
 * the open fail (ELOOP/ENOTDIR) instead of leading elsewhere on the host.
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

  /**
   * One stat buffer per thread: a pass stats thousands of files, and native memory is not free to
   * allocate.
   */
  private static final ThreadLocal<Memory> BUFFER =
      ThreadLocal.withInitial(() -> new Memory(STAT_SIZE));

  private static final ThreadLocal<byte[]> STAT_COPY =
      ThreadLocal.withInitial(() -> new byte[STAT_SIZE]);

  /** One native buffer per thread for listings and small reads, copied out once per call. */
  private static final int DENTS_SIZE = 32 * 1024;

  private static final ThreadLocal<Memory> DENTS =
      ThreadLocal.withInitial(() -> new Memory(DENTS_SIZE));

  /**
   * How names are turned into Strings and back: JNA's own encoding, so a name read here unlinks the
   * same entry.
   */
  private static final java.nio.charset.Charset NAMES =
      java.nio.charset.Charset.forName(Native.getDefaultStringEncoding());

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

  private static native int fstatat(int dirfd, byte[] path, Memory buf, int flags);

  private static native int openat(int dirfd, byte[] path, int flags);

  private static native long getdents64(int fd, Memory buf, long size);

  private static native long read(int fd, Memory buf, long size);

  private static native int unlinkat(int dirfd, String path, int flags);

  private static native int close(int fd);

  /** What {@code lstat} says of one entry. Times are nanoseconds since the epoch. */
  public record Stat(
      long dev,
      long ino,
      int mode,
      int uid,
      int gid,
      long size,
      long allocatedBytes,
      long mtimeNanos,
      long ctimeNanos) {
    public boolean regular() {
      return (mode & 0170000) == 0100000;
    }
  }

  /** Whether these calls can be made here (Linux, a supported ABI, glibc 2.33+). */
  public static boolean available() {
    return AVAILABLE;
  }

  /**
   * lstat of a path, or null when it cannot be read (gone, not allowed, or the calls are not
   * available).
   */
  public static Stat lstat(String path) {
    if (!AVAILABLE) {
      return null;
    }
    Memory buf = BUFFER.get();
    return fstatat(AT_FDCWD, path, buf, AT_SYMLINK_NOFOLLOW) == 0 ? decode(buf) : null;
  }

  /**
   * stat of what a path leads to (links followed: for /proc/PID/fd/N, the open file), or null when
   * it cannot be read.
   */
  public static Stat statThrough(String path) {
    if (!AVAILABLE) {
      return null;
    }
    Memory buf = BUFFER.get();
    return fstatat(AT_FDCWD, path, buf, 0) == 0 ? decode(buf) : null;
  }

  private static Stat decode(Memory m) {
    // one copy out of native memory, then plain reads (both supported ABIs are little-endian): a
    // pass decodes
    // a stat per file and per open fd, and each Memory.getLong would be a native call of its own
    byte[] raw = STAT_COPY.get();
    m.read(0, raw, 0, STAT_SIZE);
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(raw).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    return new Stat(
        b.getLong(ST_DEV),
        b.getLong(ST_INO),
        b.getInt(ST_MODE),
        b.getInt(ST_UID),
        b.getInt(ST_GID),
        b.getLong(ST_SIZE),
        b.getLong(ST_BLOCKS) * 512,
        b.getLong(ST_MTIM) * 1_000_000_000L + b.getLong(ST_MTIM + 8),
        b.getLong(ST_CTIM) * 1_000_000_000L + b.getLong(ST_CTIM + 8));
  }

  /**
   * Opens {@code root} and then each of {@code components} below it as directories, refusing a
   * symbolic link at every step (the root included).
   */
  public static Directory openDirectory(Path root, List<String> components) throws KernelException {
    if (!AVAILABLE) {
      throw new KernelException(
          "openat(" + root + ")", LibC.ENOSYS, "fstatat/openat are not available in this libc");
    }
    int fd = openat(AT_FDCWD, root.toString(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      throw new KernelException(
          "openat(" + root + ", O_DIRECTORY|O_NOFOLLOW)", Native.getLastError(), null);
    }
    String at = root.toString();
    for (String c : components) {
      int next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      int errno = Native.getLastError();
      close(fd);
      at = at + "/" + c;
      if (next < 0) {
        throw new KernelException(
            "openat(" + at + ", O_DIRECTORY|O_NOFOLLOW)",
            errno,
            "a path component is missing, not a directory or a symbolic link; nothing was followed");
      }
      fd = next;
    }
    return new Directory(fd, at);
  }

  /**
   * Receives one entry of a directory listing (never "." or ".."): its name's bytes ({@link #name}
   * makes a String of them).
   */
  @FunctionalInterface
  public interface EntryVisitor {
    /**
     * @param name the name's bytes, null-terminated at {@code name[length]} (valid only during the
     *     call)
     * @param length the name's length in bytes
     */
    void visit(byte[] name, int length) throws KernelException;
  }

  /**
   * A name's bytes as a String, decoded as JNA encodes Strings (so it names the same entry when
   * passed back).
   */
  public static String name(byte[] name, int length) {
    return new String(name, 0, length, NAMES);
  }

  /** An open directory: entries are read and removed relative to it. */
  public static final class Directory implements AutoCloseable {
    private final int fd;
    private final String path;

    private Directory(int fd, String path) {
      this.fd = fd;
      this.path = path;
    }

    /**
     * A path that names this very directory ({@code /proc/self/fd/N}): a mount(2) on it lands on
     * the directory this descriptor was opened on, whatever was put at its path since. Valid while
     * the descriptor is open.
     */
    public String fdPath() {
      return "/proc/self/fd/" + fd;
    }

    /** lstat of an entry of this directory. */
    public Stat stat(String name) throws KernelException {
      Memory buf = new Memory(STAT_SIZE);
      if (fstatat(fd, name, buf, AT_SYMLINK_NOFOLLOW) != 0) {
        throw new KernelException(
            "fstatat(" + path + "/" + name + ", AT_SYMLINK_NOFOLLOW)", Native.getLastError(), null);
      }
      return decode(buf);
    }

    /**
     * lstat of an entry named by its null-terminated bytes (what {@link #forEach} hands out), into
     * this thread's buffer: no String and no native allocation per entry. Null when it is gone
     * meanwhile.
     */
    public Stat lstat(byte[] name) throws KernelException {
      return statAt(name, AT_SYMLINK_NOFOLLOW);
    }

    /**
     * stat through an entry (a link is followed: for /proc/PID/fd/N, the open file), or null when
     * it is gone meanwhile.
     */
    public Stat statThrough(byte[] name) throws KernelException {
      return statAt(name, 0);
    }

    private Stat statAt(byte[] name, int flags) throws KernelException {
      Memory buf = BUFFER.get();
      if (fstatat(fd, name, buf, flags) == 0) {
        return decode(buf);
      }
      int errno = Native.getLastError();
      if (errno == LibC.ENOENT) {
        return null;
      }
      throw new KernelException(
          "fstatat(" + path + "/" + name(name, nameLength(name)) + ")", errno, null);
    }

    /**
     * Opens a subdirectory by its null-terminated name, refusing a symbolic link; null when it is
     * gone meanwhile.
     */
    public Directory open(byte[] name) throws KernelException {
      return openSub(name, O_NOFOLLOW);
    }

    /**
     * Opens a subdirectory by its null-terminated name, following a symbolic link: only for trusted
     * trees (a proc root, whose test fixtures link to /proc/PID), never for a volume. Null when it
     * is gone meanwhile.
     */
    public Directory enter(byte[] name) throws KernelException {
      return openSub(name, 0);
    }

    private Directory openSub(byte[] name, int follow) throws KernelException {
      int sub = openat(fd, name, O_RDONLY | O_DIRECTORY | follow | O_CLOEXEC);
      if (sub < 0) {
        int errno = Native.getLastError();
        if (errno == LibC.ENOENT || errno == LibC.ESRCH) {
          return null;
        }
        throw new KernelException(
            "openat("
                + path
                + "/"
                + name(name, nameLength(name))
                + ", O_DIRECTORY"
                + (follow == 0 ? "" : "|O_NOFOLLOW")
                + ")",
            errno,
            follow == 0 ? null : "not a directory or a symbolic link; nothing was followed");
      }
      return new Directory(sub, path + "/" + name(name, nameLength(name)));
    }

    /**
     * The whole content of a small file of a trusted tree (a proc root: a link is followed), named
     * by its null-terminated bytes, read through this thread's listing buffer; null when it is gone
     * meanwhile.
     */
    public byte[] readFile(byte[] name) throws KernelException {
      int file = openat(fd, name, O_RDONLY | O_CLOEXEC);
      if (file < 0) {
        int errno = Native.getLastError();
        if (errno == LibC.ENOENT || errno == LibC.ESRCH) {
          return null;
        }
        throw new KernelException(
            "openat(" + path + "/" + name(name, nameLength(name)) + ")", errno, null);
      }
      try {
        Memory buf = DENTS.get();
        byte[] out = new byte[0];
        int size = 0;
        while (true) {
          long n = read(file, buf, DENTS_SIZE);
          if (n < 0) {
            int errno = Native.getLastError();
            if (errno == LibC.ESRCH) {
              return null;
            }
            throw new KernelException(
                "read(" + path + "/" + name(name, nameLength(name)) + ")", errno, null);
          }
          if (n == 0) {
            return size == out.length ? out : java.util.Arrays.copyOf(out, size);
          }
          if (size + n > out.length) {
            out = java.util.Arrays.copyOf(out, Math.max(out.length * 2, size + (int) n));
          }
          buf.read(0, out, size, (int) n);
          size += (int) n;
        }
      } finally {
        AtFiles.close(file);
      }
    }

    /** This directory's path as it was opened (for messages). */
    public String path() {
      return path;
    }

    /**
     * Every entry but "." and "..", read with getdents64 straight from the descriptor: one system
     * call per few hundred entries and no object per entry unless the visitor makes one.
     */
    public void forEach(EntryVisitor visitor) throws KernelException {
      Memory buf = DENTS.get();
      byte[] name = new byte[256];
      while (true) {
        long n = getdents64(fd, buf, DENTS_SIZE);
        if (n < 0) {
          throw new KernelException("getdents64(" + path + ")", Native.getLastError(), null);
        }
        if (n == 0) {
          return;
        }
        // copied out at once: the visitor may list another directory (or read a file) through the
        // same buffer
        byte[] b = new byte[(int) n];
        buf.read(0, b, 0, (int) n);
        int off = 0;
        while (off < n) {
          // struct linux_dirent64: u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, char d_name[]
          // (null-terminated)
          int reclen = (b[off + 16] & 0xff) | (b[off + 17] & 0xff) << 8;
          int start = off + 19;
          int end = start;
          while (b[end] != 0) {
            end++;
          }
          int len = end - start;
          boolean dots = b[start] == '.' && (len == 1 || (len == 2 && b[start + 1] == '.'));
          if (!dots) {
            System.arraycopy(b, start, name, 0, len + 1);
            visitor.visit(name, len);
          }
          off += reclen;
        }
      }
    }

    private static int nameLength(byte[] name) {
      int n = 0;
      while (n < name.length && name[n] != 0) {
        n++;
      }
      return n;
    }

    /** unlinkat of a (non-directory) entry of this directory. */
    public void unlink(String name) throws KernelException {
      if (unlinkat(fd, name, 0) != 0) {
        throw new KernelException(
            "unlinkat(" + path + "/" + name + ")", Native.getLastError(), null);
      }
    }

    @Override
    public void close() {
      AtFiles.close(fd);
    }
  }
}
