package dev.sharedipc.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The alerting rules of a PrometheusRule (deploy/monitoring/prometheus-rule.yaml), read from the
 * file itself: as the plain rules file the {@code prometheus} binary loads, and the series
 * selectors of each alert's expression, so that a test can ask a Prometheus holding real scrapes
 * whether each selector matches anything (a misspelt metric or label value in an alert matches
 * nothing, and the alert then never fires, while its promtool test, fed by hand-written series,
 * passes).
 */
final class AlertRules {
  /** One alert: its name and PromQL. */
  record Alert(String name, String expr) {}

  /**
   * Our metrics, kube-state-metrics' and {@code up}, with their matchers; never a function call.
   */
  private static final Pattern SELECTOR =
      Pattern.compile(
          "(?<![\\w:\"])((?:sharedipc|kube)_[a-zA-Z0-9_:]*|up)(\\s*\\{[^}]*})?(?!\\s*\\()");

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private final JsonNode groups;

  private AlertRules(JsonNode groups) {
    this.groups = groups;
  }

  static AlertRules read(Path prometheusRule) {
    try {
      return new AlertRules(YAML.readTree(prometheusRule.toFile()).path("spec").path("groups"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the PrometheusRule " + prometheusRule, e);
    }
  }

  List<Alert> alerts() {
    List<Alert> out = new ArrayList<>();
    for (JsonNode group : groups) {
      for (JsonNode rule : group.path("rules")) {
        if (rule.hasNonNull("alert")) {
          out.add(new Alert(rule.path("alert").asText(), rule.path("expr").asText()));
        }
      }
    }
    return out;
  }

  /** Writes the groups as the rules file Prometheus's {@code rule_files} reads. */
  void writeRulesFile(Path file) {
    ObjectNode rules = YAML.createObjectNode();
    rules.set("groups", groups);
    try {
      YAML.writeValue(file.toFile(), rules);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  /**
   * The series selectors of an expression, in order, each once: {@code name{matchers}} or {@code
   * name}.
   */
  static Set<String> selectors(String expr) {
    Set<String> out = new LinkedHashSet<>();
    Matcher m = SELECTOR.matcher(expr);
    while (m.find()) {
      out.add(m.group(1) + (m.group(2) == null ? "" : m.group(2).strip()));
    }
    return out;
  }
}
