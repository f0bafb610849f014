package dev.sharedipc.e2e.harness;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Stopping a process the harness started, the one way every part of it does. */
public final class Processes {
  private Processes() {}

  /**
   * SIGTERM, as a kubelet stops a container; SIGKILL if it has not exited within {@code grace}.
   * Never throws; an interrupted wait kills at once and keeps the interrupt.
   */
  public static void stop(Process process, Duration grace) {
    if (process == null || !process.isAlive()) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
