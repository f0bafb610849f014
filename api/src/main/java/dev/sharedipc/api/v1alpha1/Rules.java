package dev.sharedipc.api.v1alpha1;

/**
 * CEL expressions used by several fields' x-kubernetes-validations, written once. Public so that
 * the operator's offline schema check ({@code operator/.../render/SchemaCheck.java}) knows each
 * rule by its text.
 */
public final class Rules {
  /** An int-or-string quantity that is a positive Kubernetes quantity (512Mi, 2Gi, 1073741824). */
  public static final String POSITIVE_QUANTITY =
      "type(self) == int ? self > 0 : (isQuantity(self) && quantity(self).isGreaterThan(quantity('0')))";

  /**
   * What a signed 64-bit count of bytes holds, {@code Long.MAX_VALUE}: the operator reads sizes so
   * (operator/.../render/Quantities.java) and so does the CSI driver
   * (agent/.../csi/VolumeRequest.java refuses more).
   */
  public static final String MAX_BYTES = "9223372036854775807";

  /**
   * An int-or-string byte quantity below {@link #MAX_BYTES}. Not "at most": the API server's
   * quantity parser caps a binary-suffixed value at {@code MAX_BYTES} (8Ei and 100Ei both read as
   * 9223372036854775807), so only a strict bound refuses them; the largest string admitted is
   * 9223372036854775806 bytes. An integer always fits; what is not a quantity at all is {@link
   * #POSITIVE_QUANTITY}'s to refuse, with its own message.
   */
  public static final String BELOW_MAX_BYTES =
      "type(self) == int || !isQuantity(self) || quantity(self).isLessThan(quantity('"
          + MAX_BYTES
          + "'))";

  /** What every size field's message for {@link #BELOW_MAX_BYTES} ends with. */
  static final String BELOW_8EI =
      " must be below 8Ei (at most 9223372036854775806 bytes): the operator and the CSI driver"
          + " count bytes in a signed 64-bit integer";

  private Rules() {}
}
