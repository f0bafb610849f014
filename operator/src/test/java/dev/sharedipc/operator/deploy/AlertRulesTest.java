package dev.sharedipc.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.sharedipc.api.RepoPaths;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every alert of deploy/monitoring/prometheus-rule.yaml fires on the input series of its promtool
 * unit test and stays quiet on others: `promtool test rules` runs every file in
 * deploy/monitoring/tests/ (one file per rule group; a new rule gets its cases in its group's file
 * or a new file) against the PrometheusRule's spec.groups, written out as the plain rules file
 * promtool reads. Without promtool (Debian package prometheus) the test skips with that reason,
 * except under CI=true, where it fails.
 */
class AlertRulesTest {
  private static final Path MONITORING = RepoPaths.root().resolve("deploy/monitoring");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  @Test
  void everyAlertPassesItsPromtoolTests(@TempDir Path dir) throws Exception {
    String promtool = promtool();
    ObjectNode rules = YAML.createObjectNode();
    rules.set(
        "groups",
        YAML.readTree(MONITORING.resolve("prometheus-rule.yaml").toFile())
            .path("spec")
            .path("groups"));
    YAML.writeValue(
        dir.resolve("rules.yaml").toFile(), rules); // the name the test files' rule_files give
    List<String> command = new ArrayList<>(List.of(promtool, "test", "rules"));
    for (Path file : testFiles()) {
      Files.copy(file, dir.resolve(file.getFileName()));
      command.add(file.getFileName().toString());
    }
    Process run =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String output = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(run.waitFor(2, TimeUnit.MINUTES)).as("promtool test rules finished").isTrue();
    assertThat(run.exitValue())
        .as("`%s` in %s failed; its output:%n%s", String.join(" ", command), dir, output)
        .isZero();
  }

  @Test
  void everyAlertIsTestedFiringAndQuiet() throws IOException {
    Set<String> alerts = new TreeSet<>();
    for (JsonNode group :
        YAML.readTree(MONITORING.resolve("prometheus-rule.yaml").toFile())
            .path("spec")
            .path("groups")) {
      group.path("rules").forEach(r -> alerts.add(r.path("alert").asText()));
    }
    Set<String> firing = new TreeSet<>();
    Set<String> quiet = new TreeSet<>();
    for (Path file : testFiles()) {
      JsonNode tests = YAML.readTree(file.toFile());
      assertThat(tests.path("rule_files").toString())
          .as("%s reads the rules file the test writes", file)
          .isEqualTo("[\"rules.yaml\"]");
      for (JsonNode test : tests.path("tests")) {
        for (JsonNode check : test.path("alert_rule_test")) {
          (check.path("exp_alerts").isEmpty() ? quiet : firing)
              .add(check.path("alertname").asText());
        }
      }
    }
    assertThat(alerts).as("alerts of prometheus-rule.yaml").hasSizeGreaterThan(10);
    assertThat(firing)
        .as("alerts a test in deploy/monitoring/tests/ expects to fire")
        .containsAll(alerts);
    assertThat(quiet)
        .as("alerts a test in deploy/monitoring/tests/ expects not to fire")
        .containsAll(alerts);
  }

  private static List<Path> testFiles() throws IOException {
    try (Stream<Path> files = Files.list(MONITORING.resolve("tests"))) {
      List<Path> out = files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
      assertThat(out).as("promtool test files in %s", MONITORING.resolve("tests")).isNotEmpty();
      return out;
    }
  }

  /** promtool on the PATH, or a skip (a failure under CI=true) that says how to get it. */
  private static String promtool() throws InterruptedException {
    String reason;
    try {
      Process version =
          new ProcessBuilder("promtool", "--version").redirectErrorStream(true).start();
      version.getInputStream().readAllBytes();
      if (version.waitFor(30, TimeUnit.SECONDS) && version.exitValue() == 0) {
        return "promtool";
      }
      reason = "`promtool --version` failed";
    } catch (IOException e) {
      reason = "promtool is not on the PATH (" + e.getMessage() + ")";
    }
    reason +=
        ": install it (Debian/Ubuntu: apt-get install prometheus) to run the alert unit tests";
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      throw new IllegalStateException(reason + " (CI=true: the alert tests must run, not skip)");
    }
    Assumptions.abort(reason);
    return null;
  }
}
