package dev.sharedipc.agent.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * Aligned text columns with a header, like util-linux lsipc: left-aligned text, right-aligned
 * numbers, two spaces between columns, and the last column unpadded (it holds the long reasons).
 */
public final class Table {
  private final String[] headers;
  private final boolean[] rightAligned;
  private final List<String[]> rows = new ArrayList<>();

  /** Column names; a name starting with '&gt;' is right-aligned (the marker is not printed). */
  public Table(String... columns) {
    headers = new String[columns.length];
    rightAligned = new boolean[columns.length];
    for (int i = 0; i < columns.length; i++) {
      rightAligned[i] = columns[i].startsWith(">");
      headers[i] = rightAligned[i] ? columns[i].substring(1) : columns[i];
    }
  }

  public Table row(Object... cells) {
    if (cells.length != headers.length) {
      throw new IllegalArgumentException(
          "row has " + cells.length + " cells, table has " + headers.length + " columns");
    }
    String[] r = new String[cells.length];
    for (int i = 0; i < cells.length; i++) {
      r[i] = cells[i] == null ? "-" : cells[i].toString();
    }
    rows.add(r);
    return this;
  }

  public int size() {
    return rows.size();
  }

  public String render() {
    int[] width = new int[headers.length];
    for (int i = 0; i < headers.length; i++) {
      width[i] = headers[i].length();
    }
    for (String[] r : rows) {
      for (int i = 0; i < r.length; i++) {
        width[i] = Math.max(width[i], r[i].length());
      }
    }
    StringBuilder b = new StringBuilder();
    line(b, headers, width);
    for (String[] r : rows) {
      line(b, r, width);
    }
    return b.toString();
  }

  private void line(StringBuilder b, String[] cells, int[] width) {
    int start = b.length();
    for (int i = 0; i < cells.length; i++) {
      boolean last = i == cells.length - 1;
      int pad = width[i] - cells[i].length();
      if (rightAligned[i]) {
        b.append(" ".repeat(pad)).append(cells[i]);
      } else {
        b.append(cells[i]);
        if (!last) {
          b.append(" ".repeat(pad));
        }
      }
      if (!last) {
        b.append("  ");
      }
    }
    int end = b.length();
    while (end > start && b.charAt(end - 1) == ' ') {
      end--;
    }
    b.setLength(end);
    b.append('\n');
  }
}
