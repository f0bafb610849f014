package dev.sharedipc.agent.kernel;

import java.util.Map;

/** errno names and texts for messages people read. */
public final class Errno {
  private static final Map<Integer, String> NAMES =
      Map.ofEntries(
          Map.entry(1, "EPERM"),
          Map.entry(2, "ENOENT"),
          Map.entry(3, "ESRCH"),
          Map.entry(9, "EBADF"),
          Map.entry(12, "ENOMEM"),
          Map.entry(13, "EACCES"),
          Map.entry(14, "EFAULT"),
          Map.entry(17, "EEXIST"),
          Map.entry(22, "EINVAL"),
          Map.entry(23, "ENFILE"),
          Map.entry(24, "EMFILE"),
          Map.entry(28, "ENOSPC"),
          Map.entry(38, "ENOSYS"),
          Map.entry(43, "EIDRM"));

  private Errno() {}

  public static String name(int errno) {
    return NAMES.getOrDefault(errno, "errno " + errno);
  }

  /** strerror(3), or a fallback when libc cannot be loaded. */
  public static String describe(int errno) {
    try {
      return LibC.strerror(errno);
    } catch (LinkageError e) {
      return "error " + errno;
    }
  }
}
