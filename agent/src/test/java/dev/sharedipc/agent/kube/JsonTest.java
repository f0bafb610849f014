package dev.sharedipc.agent.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.MissingNode;
import dev.sharedipc.agent.attribution.Ledger;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * kube/Json against Jackson's ObjectMapper, which the agent no longer loads: the same trees from
 * the same text, and the same text from the values the agent writes (its report, its ledger, its
 * JSON views).
 */
class JsonTest {
  static final ObjectMapper MAPPER = new ObjectMapper();

  @Test
  void readsTheTreeJacksonsMapperReads() throws Exception {
    List<String> documents =
        List.of(
            "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"labels\":{\"x\":\"y\"},\"resourceVersion\":\"12\"}}",
            "{\"int\":42,\"negative\":-7,\"long\":9007199254740993,\"big\":18446744073692774399,"
                + "\"double\":0.25,\"exp\":1e-3,\"whole\":2.0,\"t\":true,\"f\":false,\"n\":null}",
            "[1,[2,[3,[]]],{},\"\\u00e9\\n\\\"q\\\"\",\"\"]",
            "{\"dup\":1,\"dup\":2}",
            "  \"just text\"  ",
            "7");
    for (String text : documents) {
      assertThat(Json.parse(text)).as(text).isEqualTo(MAPPER.readTree(text));
      assertThat(Json.parse(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
          .as(text)
          .isEqualTo(MAPPER.readTree(text));
    }
    assertThat(Json.parse("")).isSameAs(MissingNode.getInstance());
  }

  @Test
  void malformedOrTwoDocumentsAreRefused() {
    assertThatThrownBy(() -> Json.parse("{\"a\":")).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> Json.parse("{\"a\":1} {}"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("more than one JSON value");
  }

  @Test
  void writesTreesAsJacksonsMapperDoes() throws Exception {
    JsonNode tree =
        MAPPER.readTree(
            "{\"a\":[1,2.5,-3,18446744073692774399,true,null,\"s\"],\"b\":{\"c\":{}},\"d\":[]}");
    assertThat(new String(Json.bytes(tree), java.nio.charset.StandardCharsets.UTF_8))
        .isEqualTo(MAPPER.writeValueAsString(tree));
    assertThat(Json.pretty(tree))
        .isEqualTo(MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(tree));
  }

  enum Colour {
    RED
  }

  record Row(
      String name, Long bytes, Integer missing, Colour colour, List<Map<String, Object>> more) {}

  @Test
  void writesTheViewsValuesAsJacksonsMapperDoes() throws Exception {
    Map<String, Object> nested = new LinkedHashMap<>();
    nested.put("when", null);
    nested.put("ratio", 0.5);
    nested.put("count", 3);
    nested.put("float", 0.1f);
    nested.put("char", 'x');
    nested.put("byte", (byte) -3);
    nested.put("short", (short) 7);
    Map<Object, Object> root = new LinkedHashMap<>();
    root.put("rows", List.of(new Row("a", 1L << 40, null, Colour.RED, List.of(nested))));
    root.put(Colour.RED, new Object[] {"x", 1, false});
    root.put("empty", Map.of());
    assertThat(Json.pretty(root))
        .isEqualTo(
            MAPPER.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(root));
  }

  @Test
  void writesTheReportAsJacksonsMapperDoesFieldByField() throws Exception {
    SharedIpcNodeStatus full = populated(SharedIpcNodeStatus.class, 0);
    JsonNode expected = MAPPER.readTree(MAPPER.writeValueAsBytes(full));
    assertThat(MAPPER.readTree(Json.bytes(full))).isEqualTo(expected);
    assertThat(Json.tree(full)).isEqualTo(expected);
    // every field was set: none is left out of the comparison by being null
    assertThat(expected.toString()).doesNotContain("null");
    SharedIpcNodeStatus empty = new SharedIpcNodeStatus();
    assertThat(Json.tree(empty)).isEqualTo(MAPPER.readTree(MAPPER.writeValueAsBytes(empty)));
  }

  @Test
  void writesTheLedgerAsJacksonsMapperDid() throws Exception {
    Ledger.File file = populated(Ledger.File.class, 0);
    file.entries.add(new Ledger.Entry()); // nulls are written in the ledger, as they were
    String written = Json.pretty(file);
    assertThat(written).isEqualTo(MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(file));
  }

  @Test
  void aValueItCannotWriteAsJacksonWouldIsRefusedByName() {
    assertThatThrownBy(() -> Json.bytes(Map.of("at", Instant.EPOCH)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("java.time.Instant");
    assertThatThrownBy(() -> Json.bytes(List.of(Optional.empty())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("java.util.Optional");
  }

  /**
   * An instance with every field set (lists and maps with one populated element), so that a field
   * written differently, or not at all, shows in the comparison.
   */
  @SuppressWarnings("unchecked")
  static <T> T populated(Class<T> type, int depth) throws Exception {
    assertThat(depth).as("nesting of " + type).isLessThan(8);
    var constructor = type.getDeclaredConstructor();
    constructor.setAccessible(true);
    T object = constructor.newInstance();
    for (Class<?> c = type; c != Object.class; c = c.getSuperclass()) {
      for (Field f : c.getDeclaredFields()) {
        if (Modifier.isStatic(f.getModifiers()) || f.isAnnotationPresent(JsonIgnore.class)) {
          continue;
        }
        f.setAccessible(true);
        f.set(object, sample(f.getName(), f.getGenericType(), depth));
      }
    }
    return object;
  }

  private static Object sample(String name, Type type, int depth) throws Exception {
    if (type instanceof ParameterizedType p) {
      Class<?> raw = (Class<?>) p.getRawType();
      Type[] args = p.getActualTypeArguments();
      if (List.class.isAssignableFrom(raw)) {
        List<Object> list = new ArrayList<>();
        list.add(sample(name, args[0], depth + 1));
        return list;
      }
      if (Map.class.isAssignableFrom(raw)) {
        Map<Object, Object> map = new java.util.TreeMap<>();
        map.put(name + "-key", sample(name, args[1], depth + 1));
        return map;
      }
      throw new AssertionError("no sample for " + type);
    }
    Class<?> c = (Class<?>) type;
    if (c == String.class) {
      return name + "-text";
    } else if (c == Long.class || c == long.class) {
      return 1L << 40;
    } else if (c == Integer.class || c == int.class) {
      return 42;
    } else if (c == Double.class || c == double.class) {
      return 0.5;
    } else if (c == Boolean.class || c == boolean.class) {
      return true;
    } else if (c.isEnum()) {
      return c.getEnumConstants()[0];
    } else if (c.getName().startsWith("java.")) {
      throw new AssertionError("no sample for " + type);
    }
    return populated(c, depth + 1);
  }
}
