package dev.sharedipc.api;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Go-style durations ("10m", "1h30m", "90s", "500ms"), the format of orphanGracePeriod. */
public final class Durations {
  private static final Pattern PART = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)(ns|us|µs|ms|s|m|h)");

  private Durations() {}

  public static Duration parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException(
          "empty duration: use a Go-style duration such as 10m, 1h30m or 0s");
    }
    String t = text.trim();
    if (t.equals("0")) {
      return Duration.ZERO;
    }
    Matcher m = PART.matcher(t);
    int pos = 0;
    double nanos = 0;
    while (m.find() && m.start() == pos) {
      double v = Double.parseDouble(m.group(1));
      nanos +=
          v
              * switch (m.group(2)) {
                case "ns" -> 1d;
                case "us", "µs" -> 1e3;
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                default -> 3600e9;
              };
      pos = m.end();
    }
    if (pos != t.length()) {
      throw new IllegalArgumentException(
          "not a duration: '" + text + "' (use a Go-style duration such as 10m, 1h30m or 0s)");
    }
    return Duration.ofNanos((long) nanos);
  }

  /** Compact form: 0s, 45s, 10m, 1h5m, 2d3h. */
  public static String format(Duration d) {
    long s = d.getSeconds();
    if (s <= 0) {
      return d.isZero() || s < 0 ? "0s" : d.toMillis() + "ms";
    }
    long days = s / 86400;
    long hours = (s % 86400) / 3600;
    long minutes = (s % 3600) / 60;
    long seconds = s % 60;
    StringBuilder b = new StringBuilder();
    if (days > 0) {
      b.append(days).append('d');
      if (hours > 0) {
        b.append(hours).append('h');
      }
      return b.toString();
    }
    if (hours > 0) {
      b.append(hours).append('h');
    }
    if (minutes > 0) {
      b.append(minutes).append('m');
    }
    if (seconds > 0 && hours == 0) {
      b.append(seconds).append('s');
    }
    return b.length() == 0 ? "0s" : b.toString();
  }
}
