package dev.sharedipc.agent.testing;

import org.junit.jupiter.api.Assumptions;

/**
 * Tests on the real kernel need root (setns, other processes' namespaces, IPC_RMID). Without it
 * they skip with that reason, except under CI=true, where they fail: nothing skips silently in CI.
 */
public final class Root {
  private Root() {}

  public static void require() {
    String uid = String.valueOf(new com.sun.security.auth.module.UnixSystem().getUid());
    if (uid.equals("0")) {
      return;
    }
    String reason =
        "needs root on the real kernel (setns into other IPC namespaces, unshare, IPC_RMID); running as uid "
            + uid;
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      throw new IllegalStateException(reason + " (CI=true: integration tests must run, not skip)");
    }
    Assumptions.abort(reason);
  }

  /** Fails (CI) or skips when a tool the test needs is missing. */
  public static void requireTool(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
      if (java.nio.file.Files.isExecutable(java.nio.file.Path.of(dir, tool))) {
        return;
      }
    }
    String reason = "needs '" + tool + "' on the PATH";
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      throw new IllegalStateException(reason + " (CI=true: integration tests must run, not skip)");
    }
    Assumptions.abort(reason);
  }
}
