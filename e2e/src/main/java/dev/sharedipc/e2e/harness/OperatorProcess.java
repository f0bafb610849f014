package dev.sharedipc.e2e.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.awaitility.core.TerminalFailureException;

/**
 * The operator as users run it: {@code java -jar operator/target/sharedipc-operator.jar run}, a
 * separate process with its own kubeconfig (in the E2E tests, a token of its ServiceAccount),
 * serving /healthz, /readyz and /metrics on a loopback port. Each start writes its own log, {@code
 * operator-<n>.log}, so a restart scenario keeps both incarnations' logs.
 */
public final class OperatorProcess {
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);

  /**
   * The JVM as deploy/operator-deployment.yaml runs it: its JAVA_TOOL_OPTIONS, with the heap that
   * MaxRAMPercentage=40 gives under its 320Mi memory limit.
   */
  public static final List<String> DEPLOYMENT_JVM_OPTIONS =
      List.of(
          "-Xmx128m",
          "-XX:NewRatio=3",
          "-Xss512k",
          "-XX:MaxMetaspaceSize=96m",
          "-XX:ReservedCodeCacheSize=32m",
          "-XX:TieredStopAtLevel=1",
          "-XX:+UseSerialGC",
          "-XX:+ExitOnOutOfMemoryError",
          "-XX:-UsePerfData");

  /** The glibc malloc arenas deploy/operator-deployment.yaml allows (MALLOC_ARENA_MAX). */
  public static final String DEPLOYMENT_MALLOC_ARENA_MAX = "2";

  /**
   * {@link #DEPLOYMENT_JVM_OPTIONS}, or the space-separated system property
   * sharedipc.e2e.operatorJvmOptions.
   */
  public static List<String> jvmOptions() {
    String configured = System.getProperty("sharedipc.e2e.operatorJvmOptions", "").strip();
    return configured.isEmpty() ? DEPLOYMENT_JVM_OPTIONS : List.of(configured.split("\\s+"));
  }

  private static final java.util.regex.Pattern GC_HEAP =
      java.util.regex.Pattern.compile("(\\d+)M->(\\d+)M\\((\\d+)M\\)");

  private final Path jar;
  private final Path kubeconfig;
  private final Path logDir;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private Process process;
  private Path log;
  private int port;
  private int starts;

  public OperatorProcess(Path jar, Path kubeconfig, Path logDir) {
    this.jar = jar;
    this.kubeconfig = kubeconfig;
    this.logDir = logDir;
  }

  /** Starts the operator and returns once its /readyz answers 200. */
  public synchronized void start() {
    if (isAlive()) {
      throw new IllegalStateException("the operator already runs (pid " + process.pid() + ")");
    }
    port = Ports.freeLoopbackPort();
    starts++;
    log = logDir.resolve("operator-" + starts + ".log");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new java.util.ArrayList<>(List.of(java));
    command.addAll(jvmOptions());
    command.add("-Xlog:gc:file=" + gcLog());
    command.addAll(
        List.of(
            "-jar",
            jar.toString(),
            "run",
            "--no-leader-election",
            "--http-address",
            "127.0.0.1",
            "--http-port",
            Integer.toString(port),
            "--kubeconfig",
            kubeconfig.toString()));
    try {
      Files.createDirectories(logDir);
      Files.writeString(log, "$ " + String.join(" ", command) + "\n", StandardCharsets.UTF_8);
      ProcessBuilder builder = new ProcessBuilder(command);
      builder.environment().put("MALLOC_ARENA_MAX", DEPLOYMENT_MALLOC_ARENA_MAX);
      process =
          builder
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the operator: " + command, e);
    }
    awaitReady();
  }

  private void awaitReady() {
    try {
      Awaitility.await("the operator's /readyz (log: " + log + ")")
          .atMost(READY_TIMEOUT)
          .pollInterval(Duration.ofMillis(200))
          .failFast("the operator exited before it was ready", () -> !process.isAlive())
          .until(this::ready);
    } catch (ConditionTimeoutException | TerminalFailureException e) {
      throw new IllegalStateException(
          e.getMessage() + "; last lines of " + log + ":\n" + logTail(40), e);
    }
  }

  /** True when the running operator's /readyz answers 200. */
  public boolean ready() {
    try {
      return process != null
          && process.isAlive()
          && http.send(
                      HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz"))
                          .timeout(Duration.ofSeconds(2))
                          .build(),
                      HttpResponse.BodyHandlers.discarding())
                  .statusCode()
              == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * Where the running operator serves /healthz, /readyz and /metrics: {@code 127.0.0.1:PORT} (a new
   * port at each start).
   */
  public synchronized String httpAddress() {
    return "127.0.0.1:" + port;
  }

  public String metrics() {
    try {
      return http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                  .timeout(Duration.ofSeconds(5))
                  .build(),
              HttpResponse.BodyHandlers.ofString())
          .body();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the operator's /metrics", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public synchronized boolean isAlive() {
    return process != null && process.isAlive();
  }

  /** SIGTERM, as a Deployment rollout stops it; SIGKILL if it has not exited after 20 s. */
  public synchronized void stop() {
    Processes.stop(process, Duration.ofSeconds(20));
  }

  /** SIGKILL: a crash, with no shutdown hook and nothing flushed. */
  public synchronized void kill() {
    if (!isAlive()) {
      return;
    }
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public synchronized long pid() {
    return process.pid();
  }

  private Path gcLog() {
    return logDir.resolve("operator-" + starts + "-gc.log");
  }

  /**
   * The most heap the current incarnation had in use, in MiB, as its GC log saw it (the "before" of
   * the largest collection: the heap is at its fullest just before a collection).
   */
  public synchronized long peakHeapMiB() {
    try (java.util.stream.Stream<String> lines = Files.lines(gcLog(), StandardCharsets.UTF_8)) {
      return lines
          .map(GC_HEAP::matcher)
          .filter(java.util.regex.Matcher::find)
          .mapToLong(m -> Long.parseLong(m.group(1)))
          .max()
          .orElse(0);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + gcLog(), e);
    }
  }

  /**
   * The largest live heap the current incarnation's GC log shows, in MiB: the "after" of its full
   * collections (what the operator really needs), or 0 when none happened.
   */
  public synchronized long liveHeapAfterFullGcMiB() {
    try (java.util.stream.Stream<String> lines = Files.lines(gcLog(), StandardCharsets.UTF_8)) {
      return lines
          .filter(l -> l.contains("Pause Full") && !l.contains("Metadata GC Threshold"))
          .map(GC_HEAP::matcher)
          .filter(java.util.regex.Matcher::find)
          .mapToLong(m -> Long.parseLong(m.group(2)))
          .max()
          .orElse(0);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + gcLog(), e);
    }
  }

  /** The current incarnation's peak resident set (VmHWM), in MiB; it must still run. */
  public synchronized long peakRssMiB() {
    try {
      return Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status")).stream()
              .filter(l -> l.startsWith("VmHWM:"))
              .map(l -> l.replaceAll("\\D+", ""))
              .mapToLong(Long::parseLong)
              .findFirst()
              .orElseThrow()
          / 1024;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the operator's /proc status", e);
    }
  }

  /** The log of the current (or last) incarnation. */
  public synchronized Path log() {
    return log;
  }

  /** Everything every incarnation logged, oldest first. */
  public synchronized String allLogs() {
    StringBuilder out = new StringBuilder();
    for (int i = 1; i <= starts; i++) {
      Path f = logDir.resolve("operator-" + i + ".log");
      try {
        out.append(Files.readString(f, StandardCharsets.UTF_8));
      } catch (IOException e) {
        out.append("(cannot read ").append(f).append(": ").append(e.getMessage()).append(")\n");
      }
    }
    return out.toString();
  }

  public synchronized String logTail(int lines) {
    if (log == null) {
      return "(the operator never started)";
    }
    try {
      List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e.getMessage() + ")";
    }
  }
}
