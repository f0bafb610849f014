package dev.sharedipc.operator.render;

import io.fabric8.kubernetes.api.model.Quantity;
import java.math.BigDecimal;
import java.math.BigInteger;

/** Byte arithmetic on Kubernetes quantities, and the way we print byte counts back to people. */
public final class Quantities {
  private static final String[] UNITS = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};

  private Quantities() {}

  public static long bytes(Quantity quantity) {
    return Quantity.getAmountInBytes(quantity)
        .setScale(0, java.math.RoundingMode.CEILING)
        .longValueExact();
  }

  /**
   * Exact binary-unit form when there is one (256Mi), else plain bytes: what a user would write.
   */
  public static Quantity ofBytes(long bytes) {
    BigInteger value = BigInteger.valueOf(bytes);
    int unit = 0;
    BigInteger k = BigInteger.valueOf(1024);
    while (unit < UNITS.length - 1 && value.signum() != 0 && value.mod(k).signum() == 0) {
      value = value.divide(k);
      unit++;
    }
    return new Quantity(value.toString(), UNITS[unit]);
  }

  public static String human(long bytes) {
    return ofBytes(bytes).toString();
  }

  public static Quantity add(Quantity a, long bytes) {
    return ofBytes(bytes(a) + bytes);
  }

  static BigDecimal amount(Quantity q) {
    return Quantity.getAmountInBytes(q);
  }
}
