package dev.sharedipc.agent.csi;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** {@code sharedipc-agent csi} from the shaded jar, as its own process, so a test can SIGKILL it. */
final class DriverProcess implements AutoCloseable {
  private final Process process;
  final Path socket;
  final Path log;

  DriverProcess(Path socket, Path stateDir, Path log, String... extra) throws IOException {
    this.socket = socket;
    this.log = log;
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-jar", System.getProperty("sharedipc.agent.jar", "target/sharedipc-agent.jar"),
        "csi", "--endpoint", "unix://" + socket, "--node-id", "csi-it-node", "--state-dir", stateDir.toString()));
    cmd.addAll(List.of(extra));
    Files.deleteIfExists(socket);
    process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    await("driver listening on " + socket).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> {
          if (!process.isAlive()) {
            throw new IllegalStateException("driver exited with " + process.exitValue() + ": " + Files.readString(log));
          }
          return Files.exists(socket);
        });
  }

  /** SIGKILL: no shutdown hook, no cleanup; what a crash or an OOM kill leaves. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
  }

  @Override
  public void close() throws InterruptedException {
    kill();
  }
}
