package dev.sharedipc.agent.kube;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The agent's JSON: Jackson's trees ({@link JsonNode}), read and written with Jackson's streaming
 * core, without its {@code ObjectMapper}. The mapper and its bean (de)serializers were some 550
 * classes that cost the serving agent about 5 MiB (docs/agent.md, "Footprint"), for a handful of
 * documents: the API server's objects, the agent's report and Events, its ledger, and the {@code
 * --json} views. Trees read here equal what {@code ObjectMapper.readTree} gives, and what is
 * written equals what {@code ObjectMapper.writeValueAsString} writes for the values the agent
 * writes (JsonTest checks both, the report type field by field).
 *
 * <p>Written values: trees; strings and characters, numbers, booleans and null; enums (by name);
 * maps (keys as text) and lists; records (by component); and the report's plain classes, field by
 * field (a field's {@code @JsonProperty} name, {@code @JsonIgnore}, and a class's {@code
 * JsonInclude(NON_NULL)}), as Jackson writes them. Anything else is refused with the type named,
 * rather than written in a way Jackson would not.
 */
public final class Json {
  private static final JsonFactory FACTORY = new JsonFactory();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private Json() {}

  public static ObjectNode object() {
    return NODES.objectNode();
  }

  public static ArrayNode array() {
    return NODES.arrayNode();
  }

  /** The tree of a JSON document; a missing node for an empty one (as Jackson's readTree). */
  public static JsonNode parse(byte[] json) throws IOException {
    try (JsonParser p = FACTORY.createParser(json)) {
      return read(p);
    }
  }

  public static JsonNode parse(String json) throws IOException {
    try (JsonParser p = FACTORY.createParser(json)) {
      return read(p);
    }
  }

  /**
   * The tree of the one document {@code p} holds, JSON or another format Jackson's streaming
   * parsers read (the kubeconfig's YAML).
   */
  public static JsonNode read(JsonParser p) throws IOException {
    if (p.nextToken() == null) {
      return MissingNode.getInstance();
    }
    JsonNode tree = value(p);
    if (p.nextToken() != null) {
      throw new IOException("more than one JSON value, at " + p.currentLocation());
    }
    return tree;
  }

  private static JsonNode value(JsonParser p) throws IOException {
    JsonToken token = p.currentToken();
    switch (token) {
      case START_OBJECT:
        ObjectNode object = NODES.objectNode();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String name = p.currentName();
          p.nextToken();
          object.set(name, value(p));
        }
        return object;
      case START_ARRAY:
        ArrayNode array = NODES.arrayNode();
        while (p.nextToken() != JsonToken.END_ARRAY) {
          array.add(value(p));
        }
        return array;
      case VALUE_STRING:
        return NODES.textNode(p.getText());
      case VALUE_NUMBER_INT:
        return switch (p.getNumberType()) {
          case INT -> NODES.numberNode(p.getIntValue());
          case LONG -> NODES.numberNode(p.getLongValue());
          default -> NODES.numberNode(p.getBigIntegerValue());
        };
      case VALUE_NUMBER_FLOAT:
        return p.getNumberType() == JsonParser.NumberType.BIG_DECIMAL
            ? NODES.numberNode(p.getDecimalValue())
            : NODES.numberNode(p.getDoubleValue());
      case VALUE_TRUE:
        return NODES.booleanNode(true);
      case VALUE_FALSE:
        return NODES.booleanNode(false);
      case VALUE_NULL:
        return NODES.nullNode();
      default:
        throw new IOException("unexpected " + token + " at " + p.currentLocation());
    }
  }

  /** {@code value} as compact JSON. */
  public static byte[] bytes(Object value) {
    return write(value, false).toByteArray();
  }

  /** {@code value} as indented JSON (as Jackson's default pretty printer indents it). */
  public static String pretty(Object value) {
    return write(value, true).toString(java.nio.charset.StandardCharsets.UTF_8);
  }

  /** {@code value} as a tree, as it reads back once written. */
  public static JsonNode tree(Object value) {
    try {
      return parse(bytes(value));
    } catch (IOException e) {
      throw new UncheckedIOException(e); // our own writing, read back: cannot be malformed
    }
  }

  private static ByteArrayOutputStream write(Object value, boolean pretty) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      if (pretty) {
        g.useDefaultPrettyPrinter();
      }
      write(g, value);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // into memory: only a value we refuse
    }
    return out;
  }

  private static void write(JsonGenerator g, Object value) throws IOException {
    if (value == null) {
      g.writeNull();
    } else if (value instanceof JsonNode node) {
      writeNode(g, node);
    } else if (value instanceof CharSequence || value instanceof Character) {
      g.writeString(value.toString());
    } else if (value instanceof Boolean b) {
      g.writeBoolean(b);
    } else if (value instanceof Integer
        || value instanceof Long
        || value instanceof Short
        || value instanceof Byte) {
      g.writeNumber(((Number) value).longValue());
    } else if (value instanceof Double d) {
      g.writeNumber(d);
    } else if (value instanceof Float f) {
      g.writeNumber(f);
    } else if (value instanceof BigInteger i) {
      g.writeNumber(i);
    } else if (value instanceof BigDecimal d) {
      g.writeNumber(d);
    } else if (value instanceof Enum<?> e) {
      g.writeString(e.name());
    } else if (value instanceof Map<?, ?> map) {
      g.writeStartObject();
      for (Map.Entry<?, ?> e : map.entrySet()) {
        g.writeFieldName(e.getKey() instanceof Enum<?> k ? k.name() : String.valueOf(e.getKey()));
        write(g, e.getValue());
      }
      g.writeEndObject();
    } else if (value instanceof Iterable<?> list) {
      g.writeStartArray();
      for (Object item : list) {
        write(g, item);
      }
      g.writeEndArray();
    } else if (value instanceof Object[] items) {
      write(g, List.of(items));
    } else if (value.getClass().isRecord()) {
      g.writeStartObject();
      for (RecordComponent c : value.getClass().getRecordComponents()) {
        g.writeFieldName(c.getName());
        write(g, invoke(c, value));
      }
      g.writeEndObject();
    } else {
      writeFields(g, value);
    }
  }

  private static void writeNode(JsonGenerator g, JsonNode node) throws IOException {
    switch (node.getNodeType()) {
      case OBJECT -> {
        g.writeStartObject();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
          g.writeFieldName(e.getKey());
          writeNode(g, e.getValue());
        }
        g.writeEndObject();
      }
      case ARRAY -> {
        g.writeStartArray();
        for (JsonNode item : node) {
          writeNode(g, item);
        }
        g.writeEndArray();
      }
      case STRING -> g.writeString(node.textValue());
      case BOOLEAN -> g.writeBoolean(node.booleanValue());
      case NUMBER -> write(g, node.numberValue());
      case NULL -> g.writeNull();
      default ->
          throw new IllegalArgumentException("cannot write a " + node.getNodeType() + " node");
    }
  }

  /**
   * A plain class, field by field as Jackson writes one whose fields are its properties (the
   * report's classes, fabric8's Condition): superclass fields first.
   */
  private static void writeFields(JsonGenerator g, Object value) throws IOException {
    Class<?> type = value.getClass();
    if (type.getName().startsWith("java.")) {
      throw new IllegalArgumentException("cannot write a " + type.getName() + " as JSON");
    }
    JsonInclude include = type.getAnnotation(JsonInclude.class);
    boolean nulls = include == null || include.value() == JsonInclude.Include.ALWAYS;
    if (!nulls && include.value() != JsonInclude.Include.NON_NULL) {
      throw new IllegalArgumentException(
          "cannot write "
              + type.getName()
              + ": JsonInclude "
              + include.value()
              + " is not done here");
    }
    g.writeStartObject();
    for (Field f : fields(type)) {
      Object v = get(f, value);
      if (v == null && !nulls) {
        continue;
      }
      JsonProperty named = f.getAnnotation(JsonProperty.class);
      g.writeFieldName(named != null && !named.value().isEmpty() ? named.value() : f.getName());
      write(g, v);
    }
    g.writeEndObject();
  }

  private static List<Field> fields(Class<?> type) {
    List<Field> fields =
        type.getSuperclass() == null || type.getSuperclass() == Object.class
            ? new ArrayList<>()
            : fields(type.getSuperclass());
    for (Field f : type.getDeclaredFields()) {
      int m = f.getModifiers();
      if (!Modifier.isStatic(m)
          && !Modifier.isTransient(m)
          && !f.isSynthetic()
          && !f.isAnnotationPresent(JsonIgnore.class)) {
        fields.add(f);
      }
    }
    return fields;
  }

  private static Object get(Field f, Object owner) {
    try {
      f.setAccessible(true);
      return f.get(owner);
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IllegalArgumentException("cannot read " + f + " to write it as JSON: " + e, e);
    }
  }

  private static Object invoke(RecordComponent c, Object owner) {
    try {
      c.getAccessor().setAccessible(true);
      return c.getAccessor().invoke(owner);
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IllegalArgumentException("cannot read " + c + " to write it as JSON: " + e, e);
    }
  }
}
