package dev.sharedipc.agent.testing;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A view of this host's /proc without the processes that even root may not inspect here (a
 * sandbox's init without ptrace rights): tests of code that must treat an unreadable process as
 * "users unknown" use the real /proc for that, and this view for everything else.
 */
public final class ReadableProc {
  private ReadableProc() {}

  /** Pids of the real /proc whose open files or mappings this process may not read. */
  public static List<String> unreadablePids() throws IOException {
    List<String> out = new ArrayList<>();
    try (var pids = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().matches("[0-9]+"))) {
      for (Path p : pids) {
        try {
          try (var fds = Files.newDirectoryStream(p.resolve("fd"))) {
            fds.iterator().hasNext();
          }
          Files.readAllBytes(p.resolve("maps"));
        } catch (AccessDeniedException e) {
          out.add(p.getFileName().toString());
        } catch (IOException e) {
          // exited
        }
      }
    }
    return out;
  }

  /** A directory under {@code parent} with a link to every readable /proc/<pid>. */
  public static Path view(Path parent) throws IOException {
    Path view = Files.createTempDirectory(parent, "proc");
    List<String> hidden = unreadablePids();
    try (var pids = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().matches("[0-9]+"))) {
      for (Path p : pids) {
        if (!hidden.contains(p.getFileName().toString())) {
          Files.createSymbolicLink(view.resolve(p.getFileName().toString()), p);
        }
      }
    }
    return view;
  }
}
