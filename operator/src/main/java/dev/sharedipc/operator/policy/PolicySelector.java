package dev.sharedipc.operator.policy;

import dev.sharedipc.api.v1alpha1.OrphanPolicy;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicy;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicySpec;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What a SharedIpcPolicy's namespaceSelector means to the operator, including a selector the CRD
 * would refuse today (api/.../v1alpha1/NamespaceSelectorSchema.java) but that was stored before it
 * did: such a selector is unusable, and an unusable policy fails closed. It governs every namespace
 * with its limits (allowedPlacements, the ceilings, strongestOrphanPolicy) and none of its
 * permissions: allowHostIPC counts as false and a defaultOrphanPolicy of Delete as Report, so that
 * a typo can neither lift a limit where it was meant to apply nor grant anything where it was not.
 * The policy's Valid condition says so ({@link SharedIpcPolicyReconciler}). A pure function.
 */
public final class PolicySelector {
  private static final Set<String> OPERATORS = Set.of("In", "NotIn", "Exists", "DoesNotExist");

  private PolicySelector() {}

  /**
   * Why the selector cannot be evaluated, as a sentence naming the expression; empty when it can.
   */
  public static Optional<String> problem(LabelSelector selector) {
    if (selector == null || selector.getMatchExpressions() == null) {
      return Optional.empty();
    }
    List<String> problems = new ArrayList<>();
    List<LabelSelectorRequirement> expressions = selector.getMatchExpressions();
    for (int i = 0; i < expressions.size(); i++) {
      LabelSelectorRequirement r = expressions.get(i);
      String at = "matchExpressions[" + i + "]";
      if (r == null) {
        problems.add(at + " is empty");
        continue;
      }
      int values = r.getValues() == null ? 0 : r.getValues().size();
      if (r.getKey() == null || r.getKey().isEmpty()) {
        problems.add(at + " has no key");
      }
      if (r.getOperator() == null) {
        problems.add(at + " has no operator");
      } else if (!OPERATORS.contains(r.getOperator())) {
        problems.add(
            at
                + " has operator \""
                + r.getOperator()
                + "\", not one of In, NotIn, Exists, DoesNotExist");
      } else if (values == 0 && (r.getOperator().equals("In") || r.getOperator().equals("NotIn"))) {
        problems.add(at + " has operator " + r.getOperator() + " and no values");
      } else if (values > 0 && !(r.getOperator().equals("In") || r.getOperator().equals("NotIn"))) {
        problems.add(
            at + " has operator " + r.getOperator() + " and values, which it takes none of");
      }
    }
    return problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems));
  }

  /**
   * Whether the selector selects a namespace with these labels, by Kubernetes label-selector
   * semantics; a missing or empty selector selects everything, and so does an unusable one (fail
   * closed, see the class comment).
   */
  public static boolean selects(LabelSelector selector, Map<String, String> labels) {
    if (selector == null || problem(selector).isPresent()) {
      return true;
    }
    Map<String, String> have = labels == null ? Map.of() : labels;
    if (selector.getMatchLabels() != null) {
      for (Map.Entry<String, String> wanted : selector.getMatchLabels().entrySet()) {
        if (!java.util.Objects.equals(wanted.getValue(), have.get(wanted.getKey()))) {
          return false;
        }
      }
    }
    if (selector.getMatchExpressions() != null) {
      for (LabelSelectorRequirement r : selector.getMatchExpressions()) {
        String value = have.get(r.getKey());
        List<String> values = r.getValues() == null ? List.of() : r.getValues();
        boolean ok =
            switch (r.getOperator()) {
              case "In" -> value != null && values.contains(value);
              case "NotIn" -> value == null || !values.contains(value);
              case "Exists" -> have.containsKey(r.getKey());
              default -> !have.containsKey(r.getKey()); // DoesNotExist: problem() admits no other
            };
        if (!ok) {
          return false;
        }
      }
    }
    return true;
  }

  /**
   * The policy as it governs: itself when its selector is usable; else a copy without its
   * permissions (allowHostIPC false, a defaultOrphanPolicy of Delete read as Report).
   */
  public static SharedIpcPolicy governing(SharedIpcPolicy policy) {
    if (policy.getSpec() == null || problem(policy.getSpec().getNamespaceSelector()).isEmpty()) {
      return policy;
    }
    SharedIpcPolicy closed = io.fabric8.kubernetes.client.utils.Serialization.clone(policy);
    SharedIpcPolicySpec rules = closed.getSpec();
    rules.setAllowHostIPC(false);
    if (rules.getDefaultOrphanPolicy() == OrphanPolicy.Delete) {
      rules.setDefaultOrphanPolicy(OrphanPolicy.Report);
    }
    return closed;
  }

  /**
   * What a group's condition says of an unusable policy, after its name; empty for a usable one.
   */
  static String failingClosed(SharedIpcPolicy policy) {
    return problem(policy.getSpec() == null ? null : policy.getSpec().getNamespaceSelector())
        .map(
            p ->
                ", whose namespaceSelector is unusable ("
                    + p
                    + "): it governs every namespace with its limits and grants nothing until a"
                    + " cluster admin fixes it")
        .orElse("");
  }
}
