package dev.sharedipc.operator.runtime;

/**
 * The operator cannot start for a reason the user can fix (a port in use, ...): the message says
 * what failed, on what, and what to do, and the command line prints it without a stack trace.
 */
public final class StartupFailure extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public StartupFailure(String message, Throwable cause) {
    super(message, cause);
  }
}
