package dev.sharedipc.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.agent.csi.DriverProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two jars the agent ships (agent/pom.xml): sharedipc-agent.jar, everything but the CSI
 * driver's libraries, which are in sharedipc-agent-csi.jar and on the class path of {@code csi}
 * only (agent/bin/sharedipc-agent). Split so that serve does not keep the libraries' 13,000-entry
 * central directory in its heap (docs/agent.md, "Footprint"); these tests keep the split honest.
 */
class AgentJarsIT {
  static final Path JAR =
      Path.of(System.getProperty("sharedipc.agent.jar", "target/sharedipc-agent.jar"))
          .toAbsolutePath();

  @Test
  void theAgentsJarHasNoneOfTheDriversLibrariesAndTheirJarNoneOfTheAgent() throws IOException {
    try (ZipFile agent = new ZipFile(JAR.toFile());
        ZipFile libraries = new ZipFile(DriverProcess.libraries(JAR).toFile())) {
      assertThat(agent.getEntry("dev/sharedipc/agent/cli/Main.class")).isNotNull();
      assertThat(agent.getEntry("dev/sharedipc/agent/csi/CsiDriver.class")).isNotNull();
      assertThat(
              agent.stream()
                  .map(e -> e.getName())
                  .filter(
                      n ->
                          n.startsWith("io/grpc/")
                              || n.startsWith("io/fabric8/kubernetes/client/impl/"))
                  .toList())
          .as("gRPC and the fabric8 client in sharedipc-agent.jar")
          .isEmpty();
      assertThat(libraries.getEntry("io/grpc/Server.class")).isNotNull();
      assertThat(
              libraries.stream()
                  .map(e -> e.getName())
                  .filter(n -> n.startsWith("dev/sharedipc/"))
                  .toList())
          .as("the agent's classes in sharedipc-agent-csi.jar")
          .isEmpty();
    }
  }

  @Test
  void noClassOfTheAgentOutsideTheDriverNeedsTheDriversLibraries() throws Exception {
    // jdeps lists every reference to a class that is not in the jar: only the driver's may have any
    Ran jdeps =
        jdk(
            "jdeps",
            "--multi-release",
            "17",
            "--missing-deps",
            "-cp",
            JAR.toString(),
            JAR.toString());
    List<String> outside = new ArrayList<>();
    List<String> driver = new ArrayList<>();
    for (String line : jdeps.out().lines().toList()) {
      String from = line.strip().split("\\s+")[0];
      if (!line.contains("not found") || !from.startsWith("dev.sharedipc.")) {
        continue;
      }
      (from.startsWith("dev.sharedipc.agent.csi.") ? driver : outside).add(line.strip());
    }
    assertThat(driver)
        .as("the driver's references to its libraries (jdeps finds them at all)")
        .isNotEmpty();
    assertThat(outside)
        .as("references from outside the driver to classes missing from sharedipc-agent.jar")
        .isEmpty();
  }

  @Test
  void theLauncherRunsTheDriverWithItsLibraries(@TempDir Path dir) throws Exception {
    // as the DaemonSet's csi container runs it: the image's entrypoint is the launcher
    Path socket = dir.resolve("csi.sock");
    ProcessBuilder pb =
        new ProcessBuilder(
                "sh",
                Path.of("bin", "sharedipc-agent").toAbsolutePath().toString(),
                "csi",
                "--endpoint",
                "unix://" + socket,
                "--node-id",
                "launcher-node",
                "--state-dir",
                dir.resolve("state").toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("driver.log").toFile());
    pb.environment().put("SHAREDIPC_AGENT_JAR", JAR.toString());
    pb.environment()
        .put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
    Process p = pb.start();
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(socket) || !p.isAlive());
      assertThat(Files.exists(socket))
          .as("the driver listens; its log:%n%s", Files.readString(dir.resolve("driver.log")))
          .isTrue();
    } finally {
      p.destroy();
      p.waitFor(10, TimeUnit.SECONDS);
      p.destroyForcibly();
    }
  }

  @Test
  void theDriverRunWithoutItsLibrariesSaysWhereTheyAre() throws Exception {
    Ran driver =
        jdk(
            "java",
            "-jar",
            JAR.toString(),
            "csi",
            "--endpoint",
            "unix:///nonexistent/csi.sock",
            "--node-id",
            "n",
            "--state-dir",
            "/nonexistent");
    assertThat(driver.exit()).as(driver.out()).isEqualTo(2);
    assertThat(driver.out()).contains("sharedipc-agent-csi.jar", "agent/bin/sharedipc-agent csi");
  }

  private record Ran(int exit, String out) {}

  /** Runs a tool of this JDK ({@code java}, {@code jdeps}) to its end. */
  private static Ran jdk(String tool, String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", tool).toString());
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as(tool + " ended").isTrue();
    return new Ran(p.exitValue(), out);
  }
}
