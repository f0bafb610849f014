package dev.sharedipc.agent.scan;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads the tables of {@code /proc/sysvipc/} ({@code shm}, {@code sem}, {@code msg}): a header
 * line, then one line per object of whitespace-separated numbers, the third column (perms) in octal
 * and the rest in decimal. Works on bytes without building strings per field, since a scan reads
 * thousands of lines. A line that does not parse, or has a column count not accepted, is counted
 * and skipped, never guessed.
 */
final class SysvTable {
  /** The objects the rows made and how many lines were skipped as malformed. */
  record Rows<T>(List<T> rows, int malformedLines) {}

  /**
   * Makes one object from the columns of one row: {@code f[0..count)}. The array is reused for the
   * next row, so an object must copy what it keeps (the scan makes thousands of rows a pass).
   */
  @FunctionalInterface
  interface RowMapper<T> {
    T map(long[] f, int count);
  }

  private static final int PERMS_COLUMN = 2;

  private SysvTable() {}

  /** The objects of the rows whose column count is one of {@code columnCounts}. */
  static <T> Rows<T> parse(byte[] text, RowMapper<T> mapper, int... columnCounts) {
    int max = 0;
    for (int c : columnCounts) {
      max = Math.max(max, c);
    }
    List<T> rows = new ArrayList<>();
    int malformed = 0;
    long[] f = new long[max];
    int pos = 0;
    int n = text.length;
    boolean header = true;
    while (pos < n) {
      int end = pos;
      while (end < n && text[end] != '\n') {
        end++;
      }
      if (header) {
        header = false;
      } else if (!blank(text, pos, end)) {
        int count = fields(text, pos, end, f);
        if (accepted(count, columnCounts)) {
          rows.add(mapper.map(f, count));
        } else {
          malformed++;
        }
      }
      pos = end + 1;
    }
    return new Rows<>(rows, malformed);
  }

  private static boolean accepted(int count, int[] columnCounts) {
    for (int c : columnCounts) {
      if (c == count) {
        return true;
      }
    }
    return false;
  }

  private static boolean blank(byte[] t, int from, int to) {
    for (int i = from; i < to; i++) {
      if (t[i] != ' ' && t[i] != '\t' && t[i] != '\r') {
        return false;
      }
    }
    return true;
  }

  /**
   * Parses the numeric fields of one line into f; returns their count, or -1 when a field is not a
   * number or there are too many.
   */
  private static int fields(byte[] t, int from, int to, long[] f) {
    int count = 0;
    int i = from;
    while (i < to) {
      while (i < to && (t[i] == ' ' || t[i] == '\t' || t[i] == '\r')) {
        i++;
      }
      if (i >= to) {
        break;
      }
      if (count == f.length) {
        return -1;
      }
      boolean negative = false;
      if (t[i] == '-') {
        negative = true;
        i++;
      }
      int radix = count == PERMS_COLUMN ? 8 : 10;
      long value = 0;
      int digits = 0;
      while (i < to && t[i] != ' ' && t[i] != '\t' && t[i] != '\r') {
        int d = t[i] - '0';
        if (d < 0 || d >= radix) {
          return -1;
        }
        value = value * radix + d;
        digits++;
        i++;
      }
      if (digits == 0) {
        return -1;
      }
      f[count++] = negative ? -value : value;
    }
    return count;
  }
}
