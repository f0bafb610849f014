package dev.sharedipc.agent.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * One column table that drives both the aligned text and {@code --json}, as util-linux lsipc's
 * {@code coldescs[]}: each column has a header, a JSON key, how it prints in the table (human
 * sizes) and what it holds in JSON (bytes, RFC 3339 times, null for unknown). A column with no
 * header is JSON-only; adding a column is one line.
 */
final class View<T> {
  private record Column<T>(
      String header, String key, Function<T, Object> text, Function<T, Object> json) {}

  private final List<Column<T>> columns = new ArrayList<>();

  /**
   * A column whose table cell is its JSON value as text. A header starting with '&gt;' is
   * right-aligned.
   */
  View<T> col(String header, String key, Function<T, Object> value) {
    return col(header, key, value, value);
  }

  /** A column that prints differently from its JSON value (human sizes against bytes). */
  View<T> col(String header, String key, Function<T, Object> text, Function<T, Object> json) {
    columns.add(new Column<>(header, key, text, json));
    return this;
  }

  /** A column that is only in JSON. */
  View<T> json(String key, Function<T, Object> value) {
    return col(null, key, null, value);
  }

  String table(List<T> rows) {
    List<Column<T>> shown = columns.stream().filter(c -> c.header() != null).toList();
    Table t = new Table(shown.stream().map(Column::header).toArray(String[]::new));
    for (T row : rows) {
      t.row(shown.stream().map(c -> c.text().apply(row)).toArray());
    }
    return t.render();
  }

  List<Map<String, Object>> json(List<T> rows) {
    List<Map<String, Object>> out = new ArrayList<>(rows.size());
    for (T row : rows) {
      Map<String, Object> m = new LinkedHashMap<>();
      for (Column<T> c : columns) {
        m.put(c.key(), c.json().apply(row));
      }
      out.add(m);
    }
    return out;
  }
}
