package dev.sharedipc.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sharedipc.e2e.harness.Ports;
import dev.sharedipc.e2e.harness.Processes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.Assertions;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;

/**
 * A real Prometheus server (the {@code prometheus} binary of Debian's package, which {@code
 * .ci/run} installs with promtool) run by a test on a free loopback port, with its data and
 * configuration in a directory of the test, scraping the given targets and evaluating the given
 * rules every second; queried through its HTTP API. {@link #close()} stops it. Without the binary
 * the test is skipped with that reason, except under {@code CI=true}, where that is a failure.
 */
final class Prometheus implements AutoCloseable {
  /**
   * How often every target is scraped: short, so that a test waits for a few scrapes, not minutes.
   */
  static final Duration SCRAPE_INTERVAL = Duration.ofSeconds(1);

  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final Path log;
  private final String address;
  private final Process process;

  /**
   * Starts Prometheus scraping {@code targets} (job name to {@code host:port}, path /metrics) and
   * evaluating {@code rules}, and waits until it is ready.
   */
  static Prometheus start(Path dir, Path log, Map<String, String> targets, AlertRules rules)
      throws IOException {
    String binary = binary();
    Files.createDirectories(dir);
    rules.writeRulesFile(dir.resolve("rules.yaml"));
    StringBuilder config =
        new StringBuilder(
            "global:\n  scrape_interval: "
                + SCRAPE_INTERVAL.toSeconds()
                + "s\n"
                + "  scrape_timeout: "
                + SCRAPE_INTERVAL.toSeconds()
                + "s\n  evaluation_interval: "
                + SCRAPE_INTERVAL.toSeconds()
                + "s\n"
                + "rule_files: ["
                + dir.resolve("rules.yaml")
                + "]\nscrape_configs:\n");
    targets.forEach(
        (job, target) ->
            config
                .append("  - job_name: ")
                .append(job)
                .append("\n    static_configs:\n      - targets: ['")
                .append(target)
                .append("']\n"));
    Path file = dir.resolve("prometheus.yml");
    Files.writeString(file, config, StandardCharsets.UTF_8);
    String address = "127.0.0.1:" + Ports.freeLoopbackPort();
    List<String> command =
        List.of(
            binary,
            "--config.file=" + file,
            "--storage.tsdb.path=" + dir.resolve("data"),
            "--web.listen-address=" + address,
            "--log.level=warn");
    Files.createDirectories(log.getParent());
    Files.writeString(
        log, "$ " + String.join(" ", command) + "\n" + config, StandardCharsets.UTF_8);
    Process process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .start();
    Prometheus prometheus = new Prometheus(log, address, process);
    try {
      Awaitility.await("Prometheus ready on " + address + " (log " + log + ")")
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(200))
          .failFast("prometheus exited", () -> !process.isAlive())
          .until(prometheus::ready);
    } catch (RuntimeException | Error e) {
      prometheus.close();
      throw e;
    }
    System.err.printf("[e2e] prometheus: pid %d on %s, log %s%n", process.pid(), address, log);
    return prometheus;
  }

  private Prometheus(Path log, String address, Process process) {
    this.log = log;
    this.address = address;
    this.process = process;
  }

  /** The result of an instant query, or the error Prometheus gave for it. */
  record Result(String error, JsonNode series) {
    boolean empty() {
      return error == null && !series.elements().hasNext();
    }
  }

  /**
   * An instant query at the current time ({@code /api/v1/query}): its series (a vector, or one
   * scalar), or its error.
   */
  Result query(String promql) {
    URI uri =
        URI.create(
            "http://"
                + address
                + "/api/v1/query?query="
                + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    try {
      HttpResponse<String> response =
          http.send(
              HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
              HttpResponse.BodyHandlers.ofString());
      JsonNode body = JSON.readTree(response.body());
      if (!"success".equals(body.path("status").asText())) {
        return new Result(
            body.path("errorType").asText() + ": " + body.path("error").asText(), null);
      }
      JsonNode data = body.path("data");
      JsonNode result = data.path("result");
      // A scalar or string result is one value, not a list of series.
      if (!"vector".equals(data.path("resultType").asText())
          && !"matrix".equals(data.path("resultType").asText())) {
        return new Result(null, JSON.createArrayNode().add(result));
      }
      return new Result(null, result);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot query Prometheus at " + uri, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * The loaded rules ({@code /api/v1/rules}): each with its name, health ("ok", "err", "unknown")
   * and lastError.
   */
  List<JsonNode> rules() {
    URI uri = URI.create("http://" + address + "/api/v1/rules");
    try {
      JsonNode body =
          JSON.readTree(
              http.send(
                      HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                      HttpResponse.BodyHandlers.ofString())
                  .body());
      List<JsonNode> out = new ArrayList<>();
      body.path("data").path("groups").forEach(g -> g.path("rules").forEach(out::add));
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the rules of Prometheus at " + uri, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  String log() {
    return log.toString();
  }

  private boolean ready() {
    try {
      return http.send(
                  HttpRequest.newBuilder(URI.create("http://" + address + "/-/ready"))
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

  /** SIGTERM, SIGKILL after 10 s. Never throws. */
  @Override
  public void close() {
    Processes.stop(process, Duration.ofSeconds(10));
  }

  /**
   * {@code prometheus} on the PATH, or a skip (a failure under CI=true) that says how to get it.
   */
  private static String binary() {
    String reason;
    try {
      Process version =
          new ProcessBuilder("prometheus", "--version").redirectErrorStream(true).start();
      version.getInputStream().readAllBytes();
      if (version.waitFor(30, TimeUnit.SECONDS) && version.exitValue() == 0) {
        return "prometheus";
      }
      reason = "`prometheus --version` failed";
    } catch (IOException e) {
      reason = "prometheus is not on the PATH (" + e.getMessage() + ")";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    reason +=
        ": install it (Debian/Ubuntu: apt-get install prometheus; .ci/run does) to run the dashboard queries";
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      Assertions.fail(reason + " (CI=true: the dashboard queries must run, not skip)");
    }
    Assumptions.abort(reason);
    return null;
  }

  /** Lines of the log, for a failure message. */
  List<String> logTail(int lines) {
    try {
      List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
      return new ArrayList<>(all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return List.of("(no log: " + e.getMessage() + ")");
    }
  }
}
