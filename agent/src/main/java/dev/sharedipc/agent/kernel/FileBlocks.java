package dev.sharedipc.agent.kernel;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;

/**
 * The bytes a file really occupies ({@code st_blocks * 512}), which is what a tmpfs charges to
 * the memory cgroup: a sparse 1 GiB file written in one page costs one page. Java's file
 * attributes give the apparent size only, so this one field is read with {@code fstatat(2)}
 * (never following a symbolic link). {@code st_blocks} sits at byte 64 of {@code struct stat} on
 * both 64-bit ABIs the agent supports (x86_64 and the generic layout of aarch64).
 */
public final class FileBlocks {
  private static final int AT_FDCWD = -100;
  private static final int AT_SYMLINK_NOFOLLOW = 0x100;
  private static final int STAT_SIZE = 144;
  private static final int ST_BLOCKS = 64;
  private static final boolean AVAILABLE = register();

  private FileBlocks() {}

  private static boolean register() {
    if (!Platform.isLinux() || !Layout.SUPPORTED) {
      return false;
    }
    try {
      Native.register(FileBlocks.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
      return true;
    } catch (UnsatisfiedLinkError e) {
      return false; // glibc before 2.33 exports only __fxstatat: allocated bytes are then unknown
    }
  }

  private static native int fstatat(int dirfd, String path, Memory buf, int flags);

  /** Allocated bytes of the entry at {@code path} (a link is measured, not its target), or -1 when unknown. */
  public static long allocated(String path) {
    if (!AVAILABLE) {
      return -1;
    }
    Memory buf = new Memory(STAT_SIZE);
    if (fstatat(AT_FDCWD, path, buf, AT_SYMLINK_NOFOLLOW) != 0) {
      return -1;
    }
    return buf.getLong(ST_BLOCKS) * 512;
  }
}
