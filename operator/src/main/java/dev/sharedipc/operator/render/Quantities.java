package dev.sharedipc.operator.render;

import io.fabric8.kubernetes.api.model.Quantity;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.OptionalLong;

/**
 * Byte arithmetic on Kubernetes quantities, and the way we print byte counts back to people.
 *
 * <p>The operator counts bytes in a long. Sizes the CRD checks (sharedMemory.size, maxBytes, the
 * policies' ceilings) are below {@link #MAX_BYTES} by its rule ({@code BELOW_MAX_BYTES} in
 * api/src/main/java/dev/sharedipc/api/v1alpha1/Rules.java), but one stored before that rule may be
 * larger: {@link #sizeBytes} reads such a size as absent, so that its group is marked invalid. An
 * amount that no rule of ours bounds (any pod's requests, a node's allocatable) is read with {@link
 * #cappedBytes}: more than a long holds is more than any node has.
 */
public final class Quantities {
  /** The most bytes a size may be, 8Ei less one byte; the CSI driver accepts no more either. */
  public static final long MAX_BYTES = Long.MAX_VALUE;

  private static final String[] UNITS = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  private static final BigDecimal MAX = BigDecimal.valueOf(Long.MAX_VALUE);
  private static final BigDecimal MIN = BigDecimal.valueOf(Long.MIN_VALUE);

  private Quantities() {}

  /**
   * Bytes, rounded up, of a quantity of at most {@link #MAX_BYTES}; throws ArithmeticException
   * above. For values already checked ({@link #sizeBytes}) or bounded by the CRD.
   */
  public static long bytes(Quantity quantity) {
    return Quantity.getAmountInBytes(quantity).setScale(0, RoundingMode.CEILING).longValueExact();
  }

  /**
   * The bytes of a size, rounded up, when it is positive and at most {@link #MAX_BYTES}; empty when
   * it is missing, not positive, or larger (stored before the CRD bounded it).
   */
  public static OptionalLong sizeBytes(Quantity size) {
    if (size == null) {
      return OptionalLong.empty();
    }
    BigDecimal amount;
    try {
      amount = Quantity.getAmountInBytes(size).setScale(0, RoundingMode.CEILING);
    } catch (RuntimeException e) {
      return OptionalLong.empty();
    }
    return amount.signum() > 0 && amount.compareTo(MAX) <= 0
        ? OptionalLong.of(amount.longValueExact())
        : OptionalLong.empty();
  }

  /** Bytes (or units), rounded up and held within a long: for amounts no rule of ours bounds. */
  public static long cappedBytes(Quantity quantity) {
    return capped(Quantity.getAmountInBytes(quantity).setScale(0, RoundingMode.CEILING));
  }

  /** A whole amount held within a long. */
  public static long capped(BigDecimal whole) {
    return whole.max(MIN).min(MAX).longValueExact();
  }

  /**
   * Exact binary-unit form when there is one (256Mi), else plain bytes: what a user would write.
   */
  public static Quantity ofBytes(long bytes) {
    return ofBytes(BigInteger.valueOf(bytes));
  }

  static Quantity ofBytes(BigInteger bytes) {
    BigInteger value = bytes;
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

  /** As {@link #human(long)} when the quantity fits a long, else as it was written. */
  public static String human(Quantity quantity) {
    OptionalLong bytes = sizeBytes(quantity);
    return bytes.isPresent() ? human(bytes.getAsLong()) : quantity.toString();
  }

  /** {@code a} plus {@code bytes}, exactly: no sum wraps round, however large {@code a} is. */
  public static Quantity add(Quantity a, long bytes) {
    return ofBytes(
        amount(a)
            .setScale(0, RoundingMode.CEILING)
            .toBigIntegerExact()
            .add(BigInteger.valueOf(bytes)));
  }

  static BigDecimal amount(Quantity q) {
    return Quantity.getAmountInBytes(q);
  }
}
