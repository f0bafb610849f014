package dev.sharedipc.api.v1alpha1;

/** CEL expressions used by several fields' x-kubernetes-validations, written once. */
final class Rules {
  /** An int-or-string quantity that is a positive Kubernetes quantity (512Mi, 2Gi, 1073741824). */
  static final String POSITIVE_QUANTITY =
      "type(self) == int ? self > 0 : (isQuantity(self) && quantity(self).isGreaterThan(quantity('0')))";

  private Rules() {}
}
