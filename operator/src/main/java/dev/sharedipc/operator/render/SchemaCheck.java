package dev.sharedipc.operator.render;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.sharedipc.api.v1alpha1.Rules;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Checks a SharedIpcGroup document offline the way the API server checks it at admission, with the
 * OpenAPI schema of the CRD the api jar carries (generated from the same model): unknown fields
 * (kubectl's strict field validation), types, required fields, enums, patterns, bounds, and the
 * quantity rules of the size fields (positive, below 8Ei). Its messages name the field as the API
 * server does ({@code spec.sharedMemory.size: Invalid value: "512MB": ...}). The other CEL rules
 * are the renderer's to judge. A pure function of the document.
 */
public final class SchemaCheck {
  private static final String CRD = "/META-INF/sharedipc/crds/sharedipcgroups.sharedipc.dev.yaml";

  /** A Kubernetes quantity (k8s.io/apimachinery resource.Quantity's grammar). */
  private static final Pattern QUANTITY =
      Pattern.compile("[+-]?(\\d+(\\.\\d*)?|\\.\\d+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?\\d+)?");

  /** Fields every object has; the CRD schema leaves them to the API server itself. */
  private static final Set<String> OBJECT_FIELDS = Set.of("apiVersion", "kind", "metadata");

  private final JsonNode schema;

  private SchemaCheck(JsonNode schema) {
    this.schema = schema;
  }

  /** The check for SharedIpcGroup, from the CRD in the api jar. */
  public static SchemaCheck sharedIpcGroup() {
    try (InputStream in = SchemaCheck.class.getResourceAsStream(CRD)) {
      if (in == null) {
        throw new IllegalStateException(
            CRD + " is not on the classpath (the api jar carries it: rebuild it)");
      }
      JsonNode crd = new YAMLMapper().readTree(in);
      return new SchemaCheck(
          crd.path("spec").path("versions").path(0).path("schema").path("openAPIV3Schema"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + CRD, e);
    }
  }

  /**
   * What the API server would refuse in {@code document}, one line per problem; empty when nothing.
   */
  public List<String> problems(JsonNode document) {
    List<String> problems = new ArrayList<>();
    if (document.path("metadata").path("name").asText("").isBlank()) {
      problems.add("metadata.name: Required value");
    }
    if (!"sharedipc.dev/v1alpha1".equals(document.path("apiVersion").asText())) {
      problems.add(
          "apiVersion: Unsupported value: \""
              + document.path("apiVersion").asText()
              + "\": supported value: \"sharedipc.dev/v1alpha1\"");
    }
    check(document, schema, "", OBJECT_FIELDS, problems);
    return problems;
  }

  private void check(
      JsonNode node, JsonNode schema, String path, Set<String> alsoAllowed, List<String> problems) {
    if (node == null || node.isNull() || schema.isMissingNode()) {
      return;
    }
    if (schema.path("x-kubernetes-int-or-string").asBoolean(false)) {
      intOrString(node, schema, path, problems);
      return;
    }
    switch (schema.path("type").asText("")) {
      case "object" -> object(node, schema, path, alsoAllowed, problems);
      case "array" -> array(node, schema, path, problems);
      case "string" -> string(node, schema, path, problems);
      case "integer" -> number(node, schema, path, node.isIntegralNumber(), "integer", problems);
      case "number" -> number(node, schema, path, node.isNumber(), "number", problems);
      case "boolean" -> {
        if (!node.isBoolean()) {
          problems.add(field(path) + ": Invalid value: " + shown(node) + ": must be true or false");
        }
      }
      default -> {}
    }
  }

  private void object(
      JsonNode node, JsonNode schema, String path, Set<String> alsoAllowed, List<String> problems) {
    if (!node.isObject()) {
      problems.add(field(path) + ": Invalid value: " + shown(node) + ": must be an object");
      return;
    }
    JsonNode properties = schema.path("properties");
    boolean open =
        schema.path("x-kubernetes-preserve-unknown-fields").asBoolean(false)
            || !properties.isObject();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> entry = it.next();
      String child = path.isEmpty() ? entry.getKey() : path + "." + entry.getKey();
      if (properties.has(entry.getKey())) {
        check(entry.getValue(), properties.get(entry.getKey()), child, Set.of(), problems);
      } else if (schema.path("additionalProperties").isObject()) {
        check(entry.getValue(), schema.path("additionalProperties"), child, Set.of(), problems);
      } else if (!open && !alsoAllowed.contains(entry.getKey())) {
        Set<String> known = new TreeSet<>();
        properties.fieldNames().forEachRemaining(known::add);
        problems.add(
            "unknown field \""
                + child
                + "\" ("
                + field(path)
                + " has "
                + String.join(", ", known)
                + ")");
      }
    }
    for (JsonNode required : schema.path("required")) {
      if (!node.has(required.asText()) || node.get(required.asText()).isNull()) {
        problems.add((path.isEmpty() ? "" : path + ".") + required.asText() + ": Required value");
      }
    }
  }

  private void array(JsonNode node, JsonNode schema, String path, List<String> problems) {
    if (!node.isArray()) {
      problems.add(field(path) + ": Invalid value: " + shown(node) + ": must be a list");
      return;
    }
    if (schema.has("minItems") && node.size() < schema.get("minItems").asInt()) {
      problems.add(
          field(path)
              + ": Invalid value: "
              + node.size()
              + " items: must have at least "
              + schema.get("minItems").asInt());
    }
    if (schema.has("maxItems") && node.size() > schema.get("maxItems").asInt()) {
      problems.add(
          field(path)
              + ": Too many: "
              + node.size()
              + ": must have at most "
              + schema.get("maxItems").asInt()
              + " items");
    }
    for (int i = 0; i < node.size(); i++) {
      check(node.get(i), schema.path("items"), path + "[" + i + "]", Set.of(), problems);
    }
  }

  private void string(JsonNode node, JsonNode schema, String path, List<String> problems) {
    if (!node.isTextual()) {
      problems.add(field(path) + ": Invalid value: " + shown(node) + ": must be a string");
      return;
    }
    String text = node.asText();
    if (schema.path("enum").isArray() && schema.path("enum").size() > 0) {
      List<String> allowed = new ArrayList<>();
      schema.path("enum").forEach(v -> allowed.add(v.asText()));
      if (!allowed.contains(text)) {
        problems.add(
            field(path)
                + ": Unsupported value: \""
                + text
                + "\": supported values: \""
                + String.join("\", \"", allowed)
                + "\"");
      }
    }
    if (schema.has("pattern") && !matches(schema.get("pattern").asText(), text)) {
      problems.add(
          field(path)
              + ": Invalid value: \""
              + text
              + "\": should match '"
              + schema.get("pattern").asText()
              + "'");
    }
    if (schema.has("maxLength") && text.length() > schema.get("maxLength").asInt()) {
      problems.add(
          field(path) + ": Too long: may not be longer than " + schema.get("maxLength").asInt());
    }
    if (schema.has("minLength") && text.length() < schema.get("minLength").asInt()) {
      problems.add(
          field(path)
              + ": Invalid value: \""
              + text
              + "\": should be at least "
              + schema.get("minLength").asInt()
              + " chars long");
    }
  }

  private void number(
      JsonNode node, JsonNode schema, String path, boolean ok, String type, List<String> problems) {
    if (!ok) {
      problems.add(field(path) + ": Invalid value: " + shown(node) + ": must be an " + type);
      return;
    }
    if (schema.has("minimum") && node.asDouble() < schema.get("minimum").asDouble()) {
      problems.add(
          field(path)
              + ": Invalid value: "
              + node.asText()
              + ": should be greater than or equal to "
              + schema.get("minimum").asText());
    }
    if (schema.has("maximum") && node.asDouble() > schema.get("maximum").asDouble()) {
      problems.add(
          field(path)
              + ": Invalid value: "
              + node.asText()
              + ": should be less than or equal to "
              + schema.get("maximum").asText());
    }
  }

  /**
   * Integer or string; where a rule of the field asks for a positive quantity, or for one below
   * {@link Rules#MAX_BYTES} bytes, that too (the rules are known by their text, from
   * api/src/main/java/dev/sharedipc/api/v1alpha1/Rules.java).
   */
  private void intOrString(JsonNode node, JsonNode schema, String path, List<String> problems) {
    if (!node.isIntegralNumber() && !node.isTextual()) {
      problems.add(
          field(path) + ": Invalid value: " + shown(node) + ": must be an integer or a string");
      return;
    }
    for (JsonNode validation : schema.path("x-kubernetes-validations")) {
      String rule = validation.path("rule").asText();
      boolean holds;
      if (rule.equals(Rules.POSITIVE_QUANTITY)) {
        holds = node.isIntegralNumber() ? node.asLong() > 0 : isPositiveQuantity(node.asText());
      } else if (rule.equals(Rules.BELOW_MAX_BYTES)) {
        holds =
            node.isIntegralNumber() || !isQuantity(node.asText()) || belowMaxBytes(node.asText());
      } else {
        continue;
      }
      if (!holds) {
        problems.add(
            field(path)
                + ": Invalid value: "
                + shown(node)
                + ": "
                + validation.path("message").asText("must be a positive quantity"));
      }
    }
  }

  private static boolean isQuantity(String text) {
    return QUANTITY.matcher(text).matches();
  }

  private static boolean isPositiveQuantity(String text) {
    if (!isQuantity(text)) {
      return false;
    }
    try {
      return new io.fabric8.kubernetes.api.model.Quantity(text).getNumericalAmount().signum() > 0;
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** As the API server judges it, whose parser caps binary-suffixed values at MAX_BYTES. */
  private static boolean belowMaxBytes(String text) {
    try {
      return io.fabric8.kubernetes.api.model.Quantity.getAmountInBytes(
                  new io.fabric8.kubernetes.api.model.Quantity(text))
              .compareTo(new java.math.BigDecimal(Rules.MAX_BYTES))
          < 0;
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static boolean matches(String pattern, String text) {
    try {
      return Pattern.compile(pattern).matcher(text).find();
    } catch (PatternSyntaxException e) {
      return true; // a Go regular expression Java cannot read: the API server will judge it
    }
  }

  private static String field(String path) {
    return path.isEmpty() ? "<document>" : path;
  }

  private static String shown(JsonNode node) {
    return node.isTextual() ? "\"" + node.asText() + "\"" : node.toString();
  }
}
