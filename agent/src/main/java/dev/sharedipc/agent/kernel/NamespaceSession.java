package dev.sharedipc.agent.kernel;

import java.io.IOException;

/**
 * What may be done from inside a joined IPC namespace. Valid only on the thread that joined it, for
 * the duration of one {@link Kernel#inIpcNamespace} call.
 */
public interface NamespaceSession {
  /**
   * The raw text of {@code /proc/sysvipc/shm}, read through the real procfs from the joined thread.
   */
  byte[] readSysvShm() throws IOException;

  // --- System V semaphore sets and message queues: inventoried only, so there is no stat or remove
  // for them ---

  /** The raw text of {@code /proc/sysvipc/sem} of the joined namespace. */
  byte[] readSysvSem() throws IOException;

  /** The raw text of {@code /proc/sysvipc/msg} of the joined namespace. */
  byte[] readSysvMsg() throws IOException;

  // --- segments ---

  /** shmctl(IPC_STAT) of one segment by id. */
  ShmStat stat(int shmid) throws KernelException;

  /** shmctl(IPC_RMID): marks the segment for removal; the kernel frees it at the last detach. */
  void remove(int shmid) throws KernelException;
}
