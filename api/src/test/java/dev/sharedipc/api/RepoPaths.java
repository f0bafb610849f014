package dev.sharedipc.api;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the repository root from a test, whichever module's directory Maven runs it in. */
public final class RepoPaths {
  private RepoPaths() {}

  public static Path root() {
    String configured = System.getProperty("sharedipc.repo.root");
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured).toAbsolutePath();
    }
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.exists(dir.resolve("mvnw"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException(
          "cannot find the repository root (no mvnw above " + Path.of("").toAbsolutePath() + ")");
    }
    return dir;
  }
}
