package dev.sharedipc.agent.cli;

/**
 * Human-readable sizes as util-linux prints them: binary units, one decimal below 10 (4K, 1.5M,
 * 64M, 0B).
 */
public final class Sizes {
  private static final String UNITS = "BKMGTPE";

  private Sizes() {}

  public static String human(long bytes) {
    if (bytes < 0) {
      return "-";
    }
    if (bytes < 1024) {
      return bytes + "B";
    }
    int exp = 0;
    double v = bytes;
    while (v >= 1024 && exp < UNITS.length() - 1) {
      v /= 1024;
      exp++;
    }
    String unit = String.valueOf(UNITS.charAt(exp));
    double rounded = Math.round(v * 10) / 10.0;
    if (rounded >= 1024 && exp < UNITS.length() - 1) {
      return "1" + UNITS.charAt(exp + 1);
    }
    if (rounded >= 10 || rounded == Math.rint(rounded)) {
      return Math.round(v) + unit;
    }
    return String.format(java.util.Locale.ROOT, "%.1f%s", rounded, unit);
  }
}
