package dev.sharedipc.agent.kernel;

import java.io.IOException;

/**
 * What may be done from inside a joined IPC namespace. Valid only on the thread that joined it,
 * for the duration of one {@link Kernel#inIpcNamespace} call.
 */
public interface NamespaceSession {
  /** The raw text of {@code /proc/sysvipc/shm}, read through the real procfs from the joined thread. */
  byte[] readSysvShm() throws IOException;

  /** shmctl(IPC_STAT) of one segment by id. */
  ShmStat stat(int shmid) throws KernelException;

  /** shmctl(IPC_RMID): marks the segment for removal; the kernel frees it at the last detach. */
  void remove(int shmid) throws KernelException;
}
