package dev.sharedipc.operator.policy;

import dev.sharedipc.api.v1alpha1.Placement;
import dev.sharedipc.api.v1alpha1.SegmentsSpec;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicy;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicySpec;
import dev.sharedipc.operator.assessment.Assessment;
import dev.sharedipc.operator.render.Quantities;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Judges a group against every SharedIpcPolicy that selects its namespace ({@link PolicySelector}
 * says which do, and fails closed for a selector it cannot evaluate): a pure function of the group,
 * its namespace's labels and the policies. Each broken rule is named with its policy, so the user
 * knows what to change or whom to ask. {@code hostIPC} is the one rule that holds without any
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

  /**
   * The policies whose namespaceSelector selects a namespace with these labels, by name, each as it
   * governs: a policy whose selector is unusable selects every namespace and grants nothing (see
   * {@link PolicySelector}).
   */
  public static List<SharedIpcPolicy> governing(
      Map<String, String> namespaceLabels, List<SharedIpcPolicy> policies) {
    return policies.stream()
        .filter(
            p ->
                p.getSpec() != null
                    && PolicySelector.selects(p.getSpec().getNamespaceSelector(), namespaceLabels))
        .map(PolicySelector::governing)
        .sorted(Comparator.comparing(p -> p.getMetadata().getName()))
        .toList();
  }

  /**
   * The broken rule when {@code value} is above {@code ceiling}. Compared as exact amounts: either
   * may be beyond what a long holds (stored before the CRD bounded it), and this runs for every
   * group a policy governs, so it must not throw.
   */
  private static Optional<String> above(
      String field,
      io.fabric8.kubernetes.api.model.Quantity value,
      io.fabric8.kubernetes.api.model.Quantity ceiling,
      String by) {
    if (io.fabric8.kubernetes.api.model.Quantity.getAmountInBytes(value)
            .compareTo(io.fabric8.kubernetes.api.model.Quantity.getAmountInBytes(ceiling))
        <= 0) {
      return Optional.empty();
    }
    return Optional.of(
        field
            + " "
            + Quantities.human(value)
            + " is above the ceiling "
            + Quantities.human(ceiling)
            + by);
  }

  private static List<String> brokenRules(SharedIpcGroup group, SharedIpcPolicy policy) {
    SharedIpcPolicySpec rules = policy.getSpec();
    String by =
        " (SharedIpcPolicy "
            + policy.getMetadata().getName()
            + PolicySelector.failingClosed(policy)
            + ")";
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
      above(
              "sharedMemory.size",
              group.getSpec().getSharedMemory().getSize(),
              rules.getMaxSharedMemoryPerInstance(),
              by)
          .ifPresent(broken::add);
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
      above("segments.maxBytes", segments.getMaxBytes(), rules.getMaxBytesPerInstance(), by)
          .ifPresent(broken::add);
    }
    return broken;
  }
}
