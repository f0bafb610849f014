package dev.sharedipc.agent.csi;

import java.util.HashSet;
import java.util.Set;

/**
 * The mount points of this mount namespace, read from {@code /proc/self/mountinfo} (field 5, with
 * the kernel's octal escapes of space, tab, newline and backslash undone). Pure: parses text.
 */
public final class MountTable {
  private MountTable() {}

  public static Set<String> mountPoints(String mountinfo) {
    Set<String> points = new HashSet<>();
    for (String line : mountinfo.split("\n")) {
      String[] fields = line.split(" ");
      if (fields.length > 4) {
        points.add(unescape(fields[4]));
      }
    }
    return points;
  }

  static String unescape(String field) {
    StringBuilder out = new StringBuilder(field.length());
    for (int i = 0; i < field.length(); i++) {
      char c = field.charAt(i);
      if (c == '\\' && isOctal(field, i + 1)) {
        out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  private static boolean isOctal(String s, int from) {
    if (from + 3 > s.length()) {
      return false;
    }
    for (int i = from; i < from + 3; i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '7') {
        return false;
      }
    }
    return true;
  }
}
