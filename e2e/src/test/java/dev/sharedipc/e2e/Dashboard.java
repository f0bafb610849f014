package dev.sharedipc.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The PromQL of a Grafana dashboard JSON (docs/dashboards/sharedipc.json), read from the file
 * itself so that a test runs exactly what users import: every target of every panel (rows' panels
 * included) and every query variable, with the dashboard's variables and Grafana's built-in
 * intervals substituted as Grafana does for "All".
 */
final class Dashboard {
  /**
   * One query: where it is (panel title and refId, or the variable's name) and its PromQL,
   * variables substituted.
   */
  record Query(String where, String promql) {}

  private static final Pattern LABEL_VALUES =
      Pattern.compile("^\\s*label_values\\((.+),\\s*([a-zA-Z_][a-zA-Z0-9_]*)\\s*\\)\\s*$");
  private static final Pattern VARIABLE =
      Pattern.compile("\\$\\{([a-zA-Z_][a-zA-Z0-9_]*)(?::[^}]*)?}|\\$([a-zA-Z_][a-zA-Z0-9_]*)");

  private final JsonNode json;

  Dashboard(JsonNode json) {
    this.json = json;
  }

  static Dashboard read(Path file) {
    try {
      return new Dashboard(new ObjectMapper().readTree(file.toFile()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the dashboard " + file, e);
    }
  }

  /**
   * Every query, with {@code $__rate_interval}, {@code $__interval} and {@code $__range} set to
   * {@code interval}, and each templating variable set to its "All" value ({@code allValue}, else
   * {@code .*}); a variable the dashboard does not define fails, naming it.
   */
  List<Query> queries(String interval) {
    Map<String, String> values =
        new LinkedHashMap<>(
            Map.of("__rate_interval", interval, "__interval", interval, "__range", interval));
    List<Query> out = new ArrayList<>();
    for (JsonNode variable : json.path("templating").path("list")) {
      String name = variable.path("name").asText();
      if ("query".equals(variable.path("type").asText())) {
        values.put(
            name,
            variable.path("includeAll").asBoolean()
                ? variable.path("allValue").asText(".*")
                : ".*");
      }
    }
    for (JsonNode variable : json.path("templating").path("list")) {
      if ("query".equals(variable.path("type").asText())) {
        JsonNode q = variable.path("query");
        String text = q.isTextual() ? q.asText() : q.path("query").asText();
        out.add(
            new Query(
                "variable $" + variable.path("name").asText(),
                substitute(labelValues(text), values)));
      }
    }
    collect(json.path("panels"), values, out);
    return out;
  }

  private static void collect(JsonNode panels, Map<String, String> values, List<Query> out) {
    for (JsonNode panel : panels) {
      for (JsonNode target : panel.path("targets")) {
        if (target.hasNonNull("expr")) {
          out.add(
              new Query(
                  "panel \"" + panel.path("title").asText() + "\" " + target.path("refId").asText(),
                  substitute(target.path("expr").asText(), values)));
        }
      }
      collect(panel.path("panels"), values, out); // a collapsed row holds its panels
    }
  }

  /**
   * Grafana's {@code label_values(selector, label)} as the PromQL that returns one series per
   * value.
   */
  static String labelValues(String query) {
    Matcher m = LABEL_VALUES.matcher(query);
    return m.matches() ? "group by (" + m.group(2) + ") (" + m.group(1).trim() + ")" : query;
  }

  /** {@code $name} and {@code ${name}} replaced by their values; an unknown variable fails. */
  static String substitute(String expr, Map<String, String> values) {
    Matcher m = VARIABLE.matcher(expr);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String name = m.group(1) != null ? m.group(1) : longestKnownPrefix(m.group(2), values);
      String value = values.get(name);
      if (value == null) {
        throw new IllegalArgumentException(
            "the query `" + expr + "` uses $" + name + ", which the dashboard does not define");
      }
      String rest = m.group(1) != null ? "" : m.group(2).substring(name.length());
      m.appendReplacement(out, Matcher.quoteReplacement(value + rest));
    }
    m.appendTail(out);
    return out.toString();
  }

  /**
   * Grafana reads {@code $__rate_intervalfoo} as the variable {@code __rate_interval}: the longest
   * defined name that starts the word.
   */
  private static String longestKnownPrefix(String word, Map<String, String> values) {
    return values.keySet().stream()
        .filter(word::startsWith)
        .max(Comparator.comparingInt(String::length))
        .orElse(word);
  }
}
