package dev.sharedipc.agent.csi;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code sharedipc-agent csi} from the shaded jar, as its own process, so a test can SIGKILL it.
 * Shared with the e2e module through the agent's test-jar.
 */
public final class DriverProcess implements AutoCloseable {
  private final Process process;
  public final Path socket;
  public final Path log;

  /**
   * sharedipc-agent-csi.jar beside {@code jar}: the driver's libraries, on its class path as
   * agent/bin/sharedipc-agent puts them.
   */
  public static Path libraries(Path jar) {
    String name = jar.getFileName().toString();
    return jar.resolveSibling(name.substring(0, name.length() - ".jar".length()) + "-csi.jar");
  }

  DriverProcess(Path socket, Path stateDir, Path log, String... extra) throws IOException {
    this(
        Path.of(System.getProperty("sharedipc.agent.jar", "target/sharedipc-agent.jar")),
        "csi-it-node",
        socket,
        stateDir,
        log,
        extra);
  }

  /**
   * The driver of node {@code nodeId} from {@code jar}, listening on {@code socket}, logging to
   * {@code log}.
   */
  public DriverProcess(
      Path jar, String nodeId, Path socket, Path stateDir, Path log, String... extra)
      throws IOException {
    this.socket = socket;
    this.log = log;
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                jar + java.io.File.pathSeparator + libraries(jar),
                "dev.sharedipc.agent.cli.Main",
                "csi",
                "--endpoint",
                "unix://" + socket,
                "--node-id",
                nodeId,
                "--state-dir",
                stateDir.toString()));
    cmd.addAll(List.of(extra));
    Files.deleteIfExists(socket);
    process =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    await("driver listening on " + socket)
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              if (!process.isAlive()) {
                throw new IllegalStateException(
                    "driver exited with " + process.exitValue() + ": " + Files.readString(log));
              }
              return Files.exists(socket);
            });
  }

  /** SIGKILL: no shutdown hook, no cleanup; what a crash or an OOM kill leaves. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
  }

  @Override
  public void close() throws InterruptedException {
    kill();
  }
}
