package dev.sharedipc.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;
import java.util.Map;

/**
 * The CRD schema of {@link SharedIpcPolicySpec#getNamespaceSelector()}: a Kubernetes LabelSelector
 * with the rules the API server applies to the LabelSelectors of its own types (every expression
 * has a key and an operator In, NotIn, Exists or DoesNotExist; In and NotIn have values, Exists and
 * DoesNotExist none). The Java field stays a fabric8 {@code LabelSelector}: a policy stored before
 * these rules still reads, and the operator judges it defensively
 * (operator/.../policy/PolicySelector.java). Only the schema generator reads this class.
 */
public final class NamespaceSelectorSchema {
  /** Bound on expressions: keeps the CEL rules' estimated cost within the API server's budget. */
  static final int MAX_EXPRESSIONS = 64;

  @JsonPropertyDescription(
      "Labels a namespace must have, each with exactly this value (ANDed with matchExpressions).")
  public Map<String, String> matchLabels;

  @JsonPropertyDescription("Requirements on a namespace's labels, all of which must hold.")
  @Size(max = MAX_EXPRESSIONS)
  public List<Requirement> matchExpressions;

  /** One label requirement of {@link NamespaceSelectorSchema#matchExpressions}. */
  @ValidationRule(
      value = "self.operator in ['In', 'NotIn', 'Exists', 'DoesNotExist']",
      message = "operator must be one of In, NotIn, Exists, DoesNotExist",
      reason = "FieldValueInvalid",
      fieldPath = ".operator")
  @ValidationRule(
      value = "!(self.operator in ['In', 'NotIn']) || (has(self.values) && size(self.values) > 0)",
      message = "values must not be empty when operator is In or NotIn",
      reason = "FieldValueRequired",
      fieldPath = ".values")
  @ValidationRule(
      value =
          "!(self.operator in ['Exists', 'DoesNotExist']) || !has(self.values) || size(self.values) == 0",
      message = "values must be empty when operator is Exists or DoesNotExist",
      reason = "FieldValueForbidden",
      fieldPath = ".values")
  public static final class Requirement {
    @JsonPropertyDescription("The label key the requirement applies to.")
    @Required
    @Size(min = 1)
    public String key;

    @JsonPropertyDescription("In, NotIn, Exists or DoesNotExist.")
    @Required
    public String operator;

    @JsonPropertyDescription(
        "Label values: at least one for In and NotIn, none for Exists and DoesNotExist.")
    public List<String> values;
  }

  private NamespaceSelectorSchema() {}
}
