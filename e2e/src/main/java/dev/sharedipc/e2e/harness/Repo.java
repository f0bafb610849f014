package dev.sharedipc.e2e.harness;

import java.nio.file.Files;
import java.nio.file.Path;

/** Paths in the repository, whichever directory Maven runs the tests in. */
public final class Repo {
  private Repo() {}

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

  /** A path from a system property, else relative to the repository root. */
  static Path path(String property, String fallback) {
    String configured = System.getProperty(property);
    return configured != null && !configured.isBlank()
        ? Path.of(configured).toAbsolutePath()
        : root().resolve(fallback);
  }
}
