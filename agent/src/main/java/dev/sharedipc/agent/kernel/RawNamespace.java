package dev.sharedipc.agent.kernel;

import com.sun.jna.Native;
import java.nio.file.Path;

/**
 * Bare setns for the benchmark's baseline: no inode checks, no return to the agent's own namespace.
 * The agent never uses this; it exists so that the raw kernel read is measured without the agent's
 * safety work.
 */
public final class RawNamespace {
  private RawNamespace() {}

  /**
   * Moves the calling thread into the IPC namespace of {@code nsFile}. Use only on a thread made
   * for it.
   */
  public static void join(Path nsFile) throws KernelException {
    int fd = LibC.open(nsFile.toString(), LibC.O_RDONLY | LibC.O_CLOEXEC);
    if (fd < 0) {
      throw new KernelException("open(" + nsFile + ")", Native.getLastError(), "");
    }
    try {
      if (LibC.setns(fd, LibC.CLONE_NEWIPC) < 0) {
        throw new KernelException("setns(" + nsFile + ")", Native.getLastError(), "");
      }
    } finally {
      LibC.close(fd);
    }
  }
}
