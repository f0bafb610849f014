package dev.sharedipc.agent.testing;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A view of this host's /proc without the processes that even root may not inspect here (a
 * sandbox's init without ptrace rights): tests of code that must treat an unreadable process as
 * "users unknown" use the real /proc for that, and this view for everything else. The agent's tests
 * and the e2e scenarios (which give it to the agent as {@code --users-proc-root}) share this one
 * definition through the agent's test-jar.
 */
public final class ReadableProc {
  private ReadableProc() {}

  /** Pids of the real /proc whose open files or mappings this process may not read. */
  public static List<String> unreadablePids() throws IOException {
    List<String> out = new ArrayList<>();
    try (var pids =
        Files.newDirectoryStream(
            Path.of("/proc"), p -> p.getFileName().toString().matches("[0-9]+"))) {
      for (Path p : pids) {
        if (unreadable(p)) {
          out.add(p.getFileName().toString());
        }
      }
    }
    return out;
  }

  /**
   * Whether root may not read this process's open files or mappings (an exited one counts as
   * readable).
   */
  public static boolean unreadable(Path pidDir) {
    try {
      try (var fds = Files.newDirectoryStream(pidDir.resolve("fd"))) {
        fds.iterator().hasNext();
      }
      Files.readAllBytes(pidDir.resolve("maps"));
      return false;
    } catch (AccessDeniedException e) {
      return true;
    } catch (IOException e) {
      return false; // exited
    }
  }

  /** A new directory under {@code parent} with a link to every readable /proc/<pid>. */
  public static Path view(Path parent) throws IOException {
    return viewAt(Files.createTempDirectory(parent, "proc"));
  }

  /**
   * {@code dir} (made when missing) with a link to every readable /proc/<pid>; links already there
   * are kept, so a view made again adds the processes started since.
   */
  public static Path viewAt(Path dir) throws IOException {
    Files.createDirectories(dir);
    try (var pids =
        Files.newDirectoryStream(
            Path.of("/proc"), p -> p.getFileName().toString().matches("[0-9]+"))) {
      for (Path p : pids) {
        Path link = dir.resolve(p.getFileName().toString());
        if (!unreadable(p) && !Files.exists(link, LinkOption.NOFOLLOW_LINKS)) {
          Files.createSymbolicLink(link, p);
        }
      }
    }
    return dir;
  }
}
