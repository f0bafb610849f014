package dev.sharedipc.agent.bench;

import java.util.Arrays;

/**
 * What the benchmarks share: their {@code --name value} arguments and the median of their rounds.
 */
final class BenchArgs {
  private BenchArgs() {}

  static long median(long[] v) {
    long[] c = v.clone();
    Arrays.sort(c);
    return c[c.length / 2];
  }

  static int intArg(String[] args, String name, int def) {
    String v = strArg(args, name, null);
    return v == null ? def : Integer.parseInt(v);
  }

  static String strArg(String[] args, String name, String def) {
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals(name)) {
        return args[i + 1];
      }
    }
    return def;
  }
}
