package dev.sharedipc.operator.placement;

import dev.sharedipc.operator.render.Quantities;

/**
 * Cpu, memory and other resources printed the way Kubernetes users write them, for placement
 * messages.
 */
final class Amounts {
  private static final long KI = 1024;
  private static final long MI = KI * 1024;

  private Amounts() {}

  /** 1500m, 2 (whole cores), 250m. */
  static String cpu(long millis) {
    return millis % 1000 == 0 ? Long.toString(millis / 1000) : millis + "m";
  }

  /**
   * Exact binary form where there is one (3Gi, 1536Mi), exact decimal next (1G, 500M), else rounded
   * up to whole Mi or Ki: a shortfall is never printed smaller than it is.
   */
  static String memory(long bytes) {
    if (bytes < 0) {
      return "-" + memory(-bytes);
    }
    if (bytes == 0 || bytes % KI == 0) {
      return Quantities.human(bytes);
    }
    String[] decimal = {"", "k", "M", "G", "T", "P", "E"};
    long value = bytes;
    int unit = 0;
    while (unit < decimal.length - 1 && value % 1000 == 0) {
      value /= 1000;
      unit++;
    }
    if (unit > 0) {
      return value + decimal[unit];
    }
    if (bytes >= MI) {
      return Quantities.human(ceilDiv(bytes, MI) * MI);
    }
    if (bytes >= KI) {
      return Quantities.human(ceilDiv(bytes, KI) * KI);
    }
    return Long.toString(bytes);
  }

  /**
   * "nvidia.com/gpu 2"; resources counted in bytes (hugepages-*, ephemeral-storage) as memory is.
   */
  static String other(String resource, long units) {
    boolean bytes = resource.startsWith("hugepages-") || resource.equals("ephemeral-storage");
    return resource + " " + (bytes ? memory(units) : Long.toString(units));
  }

  private static long ceilDiv(long a, long b) {
    return -Math.floorDiv(-a, b);
  }
}
