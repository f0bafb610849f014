package dev.sharedipc.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.sharedipc.api.RepoPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The PrometheusRule and the Grafana dashboard parse, and every metric they query is one the code
 * exports (read from the metric definitions in the operator's ReconcileMetrics and the agent's
 * Metrics, with the suffixes the Prometheus text format adds), one the shipped kube-state-metrics
 * config defines, or one of a short list from Prometheus and kube-state-metrics themselves. Label
 * values they select on (verdict, action) exist in the code.
 */
class MonitoringAssetsTest {
  private static final Path ROOT = RepoPaths.root();
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Not ours: Prometheus's scrape health and kube-state-metrics' node list. */
  private static final Set<String> EXTERNAL = Set.of("up", "kube_node_info");

  private static final Set<String> PROMQL_WORDS =
      Set.of(
          "sum",
          "min",
          "max",
          "avg",
          "count",
          "topk",
          "bottomk",
          "rate",
          "irate",
          "increase",
          "delta",
          "absent",
          "time",
          "histogram_quantile",
          "by",
          "without",
          "and",
          "or",
          "unless",
          "on",
          "ignoring",
          "bool",
          "offset",
          "group_left",
          "group_right",
          "label_values",
          "clamp_min",
          "clamp_max",
          "vector",
          "scalar");

  @Test
  void everyMetricTheAlertsUseIsExported() throws IOException {
    JsonNode rule = YAML.readTree(ROOT.resolve("deploy/monitoring/prometheus-rule.yaml").toFile());
    assertThat(rule.path("kind").asText()).isEqualTo("PrometheusRule");
    assertThat(rule.path("apiVersion").asText()).isEqualTo("monitoring.coreos.com/v1");
    Map<String, String> exprs = new LinkedHashMap<>();
    Set<String> alerts = new HashSet<>();
    for (JsonNode group : rule.path("spec").path("groups")) {
      for (JsonNode r : group.path("rules")) {
        String name = r.path("alert").asText();
        assertThat(name).as("every rule is an alert with a name").isNotBlank();
        assertThat(alerts.add(name)).as("alert %s is unique", name).isTrue();
        assertThat(r.path("labels").path("severity").asText())
            .as("%s severity", name)
            .isIn("critical", "warning", "info");
        assertThat(r.path("annotations").path("summary").asText())
            .as("%s summary", name)
            .isNotBlank();
        exprs.put(name, r.path("expr").asText());
      }
    }
    // what the issue asks alerts for: orphans found, quota exceeded, scans failing, agent absent
    assertThat(alerts)
        .contains(
            "SharedIpcOrphanSegmentsFound",
            "SharedIpcGroupOverQuota",
            "SharedIpcScansFailing",
            "SharedIpcAgentAbsent");
    assertAllExported(exprs);
  }

  @Test
  void everyMetricTheDashboardUsesIsExported() throws IOException {
    JsonNode dashboard = JSON.readTree(ROOT.resolve("docs/dashboards/sharedipc.json").toFile());
    assertThat(dashboard.path("uid").asText()).isEqualTo("sharedipc");
    Map<String, String> exprs = new LinkedHashMap<>();
    Set<Integer> ids = new HashSet<>();
    for (JsonNode panel : dashboard.path("panels")) {
      assertThat(ids.add(panel.path("id").asInt())).as("panel ids are unique").isTrue();
      assertThat(panel.path("targets"))
          .as("panel %s has queries", panel.path("title").asText())
          .isNotEmpty();
      for (JsonNode t : panel.path("targets")) {
        exprs.put(
            panel.path("title").asText() + " " + t.path("refId").asText(), t.path("expr").asText());
      }
    }
    for (JsonNode v : dashboard.path("templating").path("list")) {
      if (v.path("query").has("query")) {
        exprs.put("variable " + v.path("name").asText(), v.path("query").path("query").asText());
      }
    }
    assertThat(exprs).hasSizeGreaterThan(10);
    assertAllExported(exprs);
    // the dashboard covers both components
    assertThat(String.join(" ", exprs.values()))
        .contains(
            "sharedipc_operator_", "sharedipc_segments", "sharedipc_memory_volume_used_bytes");
  }

  private static void assertAllExported(Map<String, String> exprs) throws IOException {
    Set<String> exported = exported();
    Set<String> verdicts =
        enumConstants(ROOT.resolve("agent/src/main/java/dev/sharedipc/agent/verdict/Verdict.java"));
    Set<String> actions =
        enumConstants(ROOT.resolve("agent/src/main/java/dev/sharedipc/agent/reap/Action.java"));
    exprs.forEach(
        (where, expr) -> {
          assertThat(expr).as(where).isNotBlank();
          Set<String> metrics = metricsIn(expr);
          assertThat(metrics).as("metrics in %s: %s", where, expr).isNotEmpty();
          assertThat(metrics)
              .as("metrics in %s that nothing exports (exported: %s)", where, exported)
              .isSubsetOf(exported);
          assertThat(labelValues(expr, "verdict")).as("verdicts in %s", where).isSubsetOf(verdicts);
          assertThat(labelValues(expr, "action")).as("actions in %s", where).isSubsetOf(actions);
        });
  }

  /**
   * Metric names of a PromQL expression: identifiers left once strings, matchers, ranges and
   * grouping clauses are gone.
   */
  static Set<String> metricsIn(String expr) {
    String s =
        expr.replaceAll(
                "label_values\\(([^,)]+),[^)]*\\)", "$1") // Grafana: label_values(metric, label)
            .replaceAll("\"(\\\\.|[^\"\\\\])*\"", "\"\"")
            .replaceAll("\\{[^}]*}", " ")
            .replaceAll("\\[[^]]*]", " ")
            .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ");
    Set<String> names = new TreeSet<>();
    Matcher m = Pattern.compile("(?<![\\w$.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\\s*\\()?").matcher(s);
    while (m.find()) {
      if (m.group(2) == null && !PROMQL_WORDS.contains(m.group(1))) {
        names.add(m.group(1));
      }
    }
    return names;
  }

  private static Set<String> labelValues(String expr, String label) {
    Set<String> values = new TreeSet<>();
    Matcher m = Pattern.compile("\\b" + label + "\\s*=~?\\s*\"([^\"]*)\"").matcher(expr);
    while (m.find()) {
      values.addAll(List.of(m.group(1).split("\\|")));
    }
    return values;
  }

  /**
   * What a scrape shows: counters with _total, histograms as _bucket, _sum and _count, gauges as
   * named.
   */
  static Set<String> exported() throws IOException {
    Set<String> names = new TreeSet<>(EXTERNAL);
    List<Path> sources =
        List.of(
            ROOT.resolve(
                "operator/src/main/java/dev/sharedipc/operator/runtime/ReconcileMetrics.java"),
            ROOT.resolve("agent/src/main/java/dev/sharedipc/agent/report/Metrics.java"));
    Pattern builder =
        Pattern.compile(
            "(Counter|CounterWithCallback|Histogram|Gauge|GaugeWithCallback)\\.builder\\(\\)\\s*\\.name\\(\\s*\"([a-z0-9_]+)\"\\s*\\)");
    Pattern gaugeHelper = Pattern.compile("\\bgauge\\(\\s*\"([a-z0-9_]+)\"");
    Pattern counterHelper = // agent: counters without exemplars
        Pattern.compile("\\bcounter\\(\\)\\s*\\.name\\(\\s*\"([a-z0-9_]+)\"\\s*\\)");
    Pattern groupCounter =
        Pattern.compile("\\bbyGroup\\(\\s*\"([a-z0-9_]+)\""); // agent: bounded counters by group
    for (Path source : sources) {
      String code = Files.readString(source);
      Matcher m = builder.matcher(code);
      while (m.find()) {
        String name = m.group(2);
        switch (m.group(1)) {
          case "Counter", "CounterWithCallback" ->
              names.add(name.replaceAll("_total$", "") + "_total");
          case "Histogram" ->
              names.addAll(List.of(name + "_bucket", name + "_sum", name + "_count"));
          default -> names.add(name);
        }
      }
      Matcher c = groupCounter.matcher(code);
      while (c.find()) {
        names.add(c.group(1) + "_total");
      }
      Matcher h = counterHelper.matcher(code);
      while (h.find()) {
        names.add(h.group(1).replaceAll("_total$", "") + "_total");
      }
      Matcher g = gaugeHelper.matcher(code);
      while (g.find()) {
        names.add(g.group(1));
      }
    }
    assertThat(names)
        .as("metric definitions found in the code")
        .contains(
            "sharedipc_operator_reconciliations_total",
            "sharedipc_scans_total",
            "sharedipc_segments");
    JsonNode ksm =
        YAML.readTree(ROOT.resolve("deploy/monitoring/kube-state-metrics-sharedipc.yaml").toFile());
    for (JsonNode r : ksm.path("spec").path("resources")) {
      for (JsonNode metric : r.path("metrics")) {
        names.add(r.path("metricNamePrefix").asText() + "_" + metric.path("name").asText());
      }
    }
    return names;
  }

  private static Set<String> enumConstants(Path source) throws IOException {
    Set<String> out = new TreeSet<>();
    Matcher m =
        Pattern.compile("(?m)^  ([A-Z][A-Za-z]+)\\s*[,;]?\\s*$").matcher(Files.readString(source));
    while (m.find()) {
      out.add(m.group(1));
    }
    assertThat(out).as("enum constants of %s", source).isNotEmpty();
    return out;
  }

  @Test
  void metricNamesAreFoundInExpressions() {
    assertThat(
            metricsIn("sum by (instance) (sharedipc_segments{verdict=~\"Orphaned|Remove\"}) > 0"))
        .containsExactly("sharedipc_segments");
    assertThat(
            metricsIn("histogram_quantile(0.99, sum by (le) (rate(x_bucket[$__rate_interval])))"))
        .containsExactly("x_bucket");
    assertThat(metricsIn("time() - a_seconds > 300 or b > 0")).containsExactly("a_seconds", "b");
    assertThat(
            metricsIn("absent(up{job=\"j\"} == 1) or (count(kube_node_info) - count(up == 1)) > 0"))
        .containsExactly("kube_node_info", "up");
    assertThat(metricsIn("label_values(sharedipc_scans_total, instance)"))
        .containsExactly("sharedipc_scans_total");
  }
}
