package dev.sharedipc.operator.policy;

import dev.sharedipc.api.v1alpha1.Placement;
import dev.sharedipc.api.v1alpha1.SegmentsSpec;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicy;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicySpec;
import dev.sharedipc.operator.assessment.Assessment;
import dev.sharedipc.operator.render.Quantities;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Judges a group against every SharedIpcPolicy that selects its namespace: a pure function of the
 * group, its namespace's labels and the policies. Each broken rule is named with its policy, so the
 * user knows what to change or whom to ask. {@code hostIPC} is the one rule that holds without any
 * policy: the node's IPC namespace is refused unless a policy selecting the namespace allows it. An
 * orphan policy above a policy's {@code strongestOrphanPolicy} is not a violation: it is capped
 * (see {@link OrphanPolicyResolver}).
 */
public final class PolicyEvaluator {

  public Assessment evaluate(
      SharedIpcGroup group, Map<String, String> namespaceLabels, List<SharedIpcPolicy> policies) {
    List<SharedIpcPolicy> applicable = governing(namespaceLabels, policies);
    String namespace = group.getMetadata().getNamespace();
    if (applicable.isEmpty()) {
      if (Boolean.TRUE.equals(group.getSpec().getHostIPC())) {
        return new Assessment(
            false,
            "HostIPCNotAllowed",
            "hostIPC: true is refused because no SharedIpcPolicy selects namespace "
                + namespace
                + "; a cluster admin must create a SharedIpcPolicy whose namespaceSelector selects it with"
                + " allowHostIPC: true, or set hostIPC: false");
      }
      return new Assessment(
          true, "NoPolicyApplies", "no SharedIpcPolicy selects namespace " + namespace);
    }
    List<String> broken = new ArrayList<>();
    for (SharedIpcPolicy policy : applicable) {
      broken.addAll(brokenRules(group, policy));
    }
    String names =
        String.join(", ", applicable.stream().map(p -> p.getMetadata().getName()).toList());
    return broken.isEmpty()
        ? new Assessment(true, "Compliant", "the group obeys SharedIpcPolicy " + names)
        : new Assessment(false, "PolicyViolation", String.join("; ", broken));
  }

  /** The policies whose namespaceSelector selects a namespace with these labels, by name. */
  public static List<SharedIpcPolicy> governing(
      Map<String, String> namespaceLabels, List<SharedIpcPolicy> policies) {
    return policies.stream()
        .filter(
            p ->
                p.getSpec() != null && selects(p.getSpec().getNamespaceSelector(), namespaceLabels))
        .sorted(Comparator.comparing(p -> p.getMetadata().getName()))
        .toList();
  }

  private static List<String> brokenRules(SharedIpcGroup group, SharedIpcPolicy policy) {
    SharedIpcPolicySpec rules = policy.getSpec();
    String by = " (SharedIpcPolicy " + policy.getMetadata().getName() + ")";
    List<String> broken = new ArrayList<>();
    Placement placement =
        Optional.ofNullable(group.getSpec().getPlacement()).orElse(Placement.SamePod);
    if (rules.getAllowedPlacements() != null
        && !rules.getAllowedPlacements().isEmpty()
        && !rules.getAllowedPlacements().contains(placement)) {
      broken.add(
          "placement " + placement + " is not allowed, only " + rules.getAllowedPlacements() + by);
    }
    if (Boolean.TRUE.equals(group.getSpec().getHostIPC())
        && !Boolean.TRUE.equals(rules.getAllowHostIPC())) {
      broken.add(
          "hostIPC is not allowed: it needs allowHostIPC: true in every policy selecting the namespace"
              + by);
    }
    if (rules.getMaxSharedMemoryPerInstance() != null
        && group.getSpec().getSharedMemory() != null
        && group.getSpec().getSharedMemory().getSize() != null) {
      long size = Quantities.bytes(group.getSpec().getSharedMemory().getSize());
      long max = Quantities.bytes(rules.getMaxSharedMemoryPerInstance());
      if (size > max) {
        broken.add(
            "sharedMemory.size "
                + Quantities.human(size)
                + " is above the ceiling "
                + Quantities.human(max)
                + by);
      }
    }
    SegmentsSpec segments =
        group.getSpec().getSegments() == null ? new SegmentsSpec() : group.getSpec().getSegments();
    int maxSegments = Optional.ofNullable(segments.getMaxSegments()).orElse(256);
    if (rules.getMaxSegmentsPerInstance() != null
        && maxSegments > rules.getMaxSegmentsPerInstance()) {
      broken.add(
          "segments.maxSegments "
              + maxSegments
              + " is above the ceiling "
              + rules.getMaxSegmentsPerInstance()
              + by);
    }
    // A group that sets no maxBytes simply lives under the policy's ceiling; only a larger one
    // breaks it.
    if (rules.getMaxBytesPerInstance() != null && segments.getMaxBytes() != null) {
      long max = Quantities.bytes(rules.getMaxBytesPerInstance());
      if (Quantities.bytes(segments.getMaxBytes()) > max) {
        broken.add(
            "segments.maxBytes "
                + Quantities.human(Quantities.bytes(segments.getMaxBytes()))
                + " is above the ceiling "
                + Quantities.human(max)
                + by);
      }
    }
    return broken;
  }

  /** Kubernetes label-selector semantics; a missing or empty selector selects everything. */
  static boolean selects(LabelSelector selector, Map<String, String> labels) {
    if (selector == null) {
      return true;
    }
    Map<String, String> have = labels == null ? Map.of() : labels;
    if (selector.getMatchLabels() != null) {
      for (Map.Entry<String, String> wanted : selector.getMatchLabels().entrySet()) {
        if (!wanted.getValue().equals(have.get(wanted.getKey()))) {
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
              case "DoesNotExist" -> !have.containsKey(r.getKey());
              default -> false;
            };
        if (!ok) {
          return false;
        }
      }
    }
    return true;
  }
}
