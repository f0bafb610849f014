package dev.sharedipc.agent.kube;

/**
 * A call the API server refused or did not answer: {@link #code()} is its HTTP status, 0 when no
 * answer came (connection refused, timeout).
 */
public final class ApiException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int code;

  public ApiException(int code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  public int code() {
    return code;
  }
}
