package dev.sharedipc.e2e.harness;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the harness's external commands (scripts/local-cluster.sh, kube-binaries.sh, kubectl) with a
 * time bound, keeping their output: appended to a log file, echoed to stderr when asked (so a long
 * cold build shows progress in the Maven output), and returned for error messages.
 */
public final class Commands {
  private Commands() {}

  /** What a finished command left behind. */
  public record Result(List<String> command, int exitCode, String output) {
    public boolean ok() {
      return exitCode == 0;
    }

    /** The output's last lines, for an error message. */
    public String tail(int lines) {
      String[] all = output.split("\n");
      int from = Math.max(0, all.length - lines);
      return String.join("\n", java.util.Arrays.copyOfRange(all, from, all.length));
    }

    public Result orThrow(String what) {
      if (!ok()) {
        throw new IllegalStateException(
            what
                + " failed: `"
                + String.join(" ", command)
                + "` exited "
                + exitCode
                + "; its last output:\n"
                + tail(30));
      }
      return this;
    }
  }

  public static Result run(
      List<String> command, Map<String, String> env, Path log, boolean echo, Duration timeout) {
    return run(command, env, log, echo, timeout, null);
  }

  /** As {@link #run(List, Map, Path, boolean, Duration)}, in the working directory {@code dir}. */
  public static Result run(
      List<String> command,
      Map<String, String> env,
      Path log,
      boolean echo,
      Duration timeout,
      Path dir) {
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectInput(ProcessBuilder.Redirect.from(devNull()));
    if (dir != null) {
      pb.directory(dir.toFile());
    }
    pb.environment().putAll(env);
    StringBuilder output = new StringBuilder();
    try {
      Files.createDirectories(log.getParent());
      try (Writer out =
          Files.newBufferedWriter(
              log, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
        out.write("\n$ " + String.join(" ", command) + "\n");
        Process process = pb.start();
        Thread reader =
            new Thread(
                () -> copy(process, out, output, echo),
                "output-of-" + Path.of(command.get(0)).getFileName());
        reader.setDaemon(true);
        reader.start();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          process.descendants().forEach(ProcessHandle::destroy);
          process.destroy();
          process.waitFor(10, TimeUnit.SECONDS);
          process.destroyForcibly();
          reader.join(2_000);
          throw new IllegalStateException(
              "`"
                  + String.join(" ", command)
                  + "` did not finish within "
                  + timeout
                  + " (output in "
                  + log
                  + ")");
        }
        reader.join(5_000);
        synchronized (output) {
          return new Result(command, process.exitValue(), output.toString());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + command, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + command, e);
    }
  }

  private static void copy(Process process, Writer out, StringBuilder output, boolean echo) {
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        synchronized (output) {
          output.append(line).append('\n');
        }
        synchronized (out) {
          out.write(line);
          out.write('\n');
          out.flush();
        }
        if (echo) {
          System.err.println("[e2e] " + line);
        }
      }
    } catch (IOException e) {
      // The process ended or the log closed; what was read is kept.
    }
  }

  private static java.io.File devNull() {
    return new java.io.File("/dev/null");
  }
}
