package dev.sharedipc.agent.kernel;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The one seam between the agent and the kernel. Scanner and reaper talk to this interface; {@link
 * LinuxKernel} is the real one, unit tests use an in-memory one. Parsers and the verdict never see
 * it.
 */
public interface Kernel {

  /** Work done inside a namespace, on the thread that joined it. */
  @FunctionalInterface
  interface NamespaceWork<T> {
    T run(NamespaceSession session) throws Exception;
  }

  /**
   * Runs {@code work} on a thread that has joined the namespace with setns(CLONE_NEWIPC) and
   * checked that it is the expected one (by inode). The thread does nothing but visits and leaves
   * the namespace when the work is done, so it never holds a namespace alive and never carries one
   * into other work. Work may not start another visit.
   */
  <T> T inIpcNamespace(NamespaceRef ns, NamespaceWork<T> work)
      throws NamespaceUnavailableException, Exception;

  /**
   * {@link #inIpcNamespace} without waiting for it: visits wait in line for a visitor, and the
   * future completes with the work's result or the exception it threw once the visitor is back.
   */
  <T> java.util.concurrent.CompletableFuture<T> startInIpcNamespace(
      NamespaceRef ns, NamespaceWork<T> work);

  /**
   * The limits and usage of the calling thread's IPC namespace, when readable: called inside {@link
   * #inIpcNamespace} for a given namespace's (the agent's own is not the host's).
   */
  Optional<ShmLimits> limits();

  /** statfs(2) of a path, with its stat(2) device, empty when it does not exist (anymore). */
  Optional<FsUsage> statfs(Path path) throws KernelException;
}
