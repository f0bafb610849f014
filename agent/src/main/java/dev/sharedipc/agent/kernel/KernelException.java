package dev.sharedipc.agent.kernel;

/**
 * A failed system call: which call, on what, the errno with its name and text, and what a person
 * can do about it. {@link #errno()} lets callers tell "gone" (EINVAL, EIDRM, ENOENT) from "not
 * allowed" (EPERM, EACCES).
 */
public final class KernelException extends Exception {
  private static final long serialVersionUID = 1L;
  private final int errno;

  public KernelException(String call, int errno, String advice) {
    super(
        call
            + " failed: "
            + Errno.name(errno)
            + " ("
            + Errno.describe(errno)
            + ")"
            + (advice == null || advice.isEmpty() ? "" : "; " + advice));
    this.errno = errno;
  }

  public int errno() {
    return errno;
  }

  /** The object no longer exists (segment removed, process or namespace gone). */
  public boolean isGone() {
    return errno == LibC.EINVAL || errno == LibC.EIDRM || errno == LibC.ENOENT;
  }

  public boolean isPermission() {
    return errno == LibC.EPERM || errno == LibC.EACCES;
  }
}
