package dev.sharedipc.agent.scan;

import java.util.ArrayList;
import java.util.List;

/**
 * Parses {@code /proc/sysvipc/shm}: a header line, then one line per segment with the columns
 * key shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime [rss swap]
 * (key signed decimal, perms octal). Works on bytes without building strings per field, since a
 * scan reads thousands of lines. A line that does not parse is counted and skipped, never guessed.
 */
public final class SysvShmParser {

  /** The segments and how many lines were skipped as malformed. */
  public record Result(List<Segment> segments, int malformedLines) {}

  private SysvShmParser() {}

  public static Result parse(long ipcNamespace, byte[] text) {
    List<Segment> segments = new ArrayList<>();
    int malformed = 0;
    long[] f = new long[16];
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
        if (count == 16 || count == 14) {
          segments.add(new Segment(ipcNamespace, (int) f[0], (int) f[1], (int) f[2], f[3], (int) f[4], (int) f[5], f[6],
              (int) f[7], (int) f[8], (int) f[9], (int) f[10], f[11], f[12], f[13],
              count == 16 ? f[14] : -1, count == 16 ? f[15] : -1));
        } else {
          malformed++;
        }
      }
      pos = end + 1;
    }
    return new Result(segments, malformed);
  }

  private static boolean blank(byte[] t, int from, int to) {
    for (int i = from; i < to; i++) {
      if (t[i] != ' ' && t[i] != '\t' && t[i] != '\r') {
        return false;
      }
    }
    return true;
  }

  /** Parses the numeric fields of one line into f; returns their count, or -1 when a field is not a number. */
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
      int radix = count == 2 ? 8 : 10; // perms are printed in octal
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
