package dev.sharedipc.agent.kernel;

/**
 * The agent could not join an IPC namespace: every process that held it is gone, or a pid was
 * reused by a process of another namespace, or the agent lacks the privilege to join. The namespace
 * is skipped for this pass (and its segments are neither reported nor removed).
 */
public final class NamespaceUnavailableException extends Exception {
  private static final long serialVersionUID = 1L;
  private final boolean gone;

  public NamespaceUnavailableException(String message, boolean gone) {
    super(message);
    this.gone = gone;
  }

  /** True when the namespace no longer exists (normal churn), false for errors worth a warning. */
  public boolean gone() {
    return gone;
  }
}
