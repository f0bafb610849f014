package dev.sharedipc.operator.policy;

import dev.sharedipc.api.v1alpha1.EffectiveOrphanPolicy;
import dev.sharedipc.api.v1alpha1.OrphanPolicy;
import dev.sharedipc.api.v1alpha1.SegmentsSpec;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicy;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicySpec;
import dev.sharedipc.operator.assessment.Assessment;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * Resolves the one orphan policy the node agents obey for a group, published in {@code
 * status.effectiveOrphanPolicy}: the group's {@code spec.segments.orphanPolicy} if set, else the
 * {@code defaultOrphanPolicy} of the SharedIpcPolicies that govern its namespace, else Report; then
 * capped by their {@code strongestOrphanPolicy}. A group that breaks a policy gets Report: nothing
 * of a group the admin has not admitted is deleted. Where several policies set a value the weakest
 * wins (Report), so adding a policy can only make deletion rarer. A pure function.
 */
public final class OrphanPolicyResolver {
  /**
   * The grace period when the group sets none (the CRD default, for groups stored before it
   * existed).
   */
  public static final String DEFAULT_GRACE_PERIOD = "10m";

  private OrphanPolicyResolver() {}

  /**
   * @param group the group as read
   * @param governing the policies that select the group's namespace (see {@link
   *     PolicyEvaluator#governing})
   * @param compliance the verdict of those policies on the group
   */
  public static EffectiveOrphanPolicy resolve(
      SharedIpcGroup group, List<SharedIpcPolicy> governing, Assessment compliance) {
    SegmentsSpec segments =
        Optional.ofNullable(group.getSpec().getSegments()).orElseGet(SegmentsSpec::new);
    String grace =
        Optional.ofNullable(segments.getOrphanGracePeriod()).orElse(DEFAULT_GRACE_PERIOD);
    if (Boolean.FALSE.equals(compliance.holds())) {
      return new EffectiveOrphanPolicy(
          OrphanPolicy.Report,
          grace,
          "Report because the group breaks a SharedIpcPolicy (see condition PolicyCompliant)");
    }
    OrphanPolicy chosen;
    String source;
    Optional<SharedIpcPolicy> defaulting =
        weakest(governing, SharedIpcPolicySpec::getDefaultOrphanPolicy);
    if (segments.getOrphanPolicy() != null) {
      chosen = segments.getOrphanPolicy();
      source = "spec.segments.orphanPolicy of the group";
    } else if (defaulting.isPresent()) {
      chosen = defaulting.get().getSpec().getDefaultOrphanPolicy();
      source = "defaultOrphanPolicy of SharedIpcPolicy " + defaulting.get().getMetadata().getName();
    } else {
      chosen = OrphanPolicy.Report;
      source =
          "the built-in default: the group sets no orphanPolicy and no SharedIpcPolicy sets a default";
    }
    Optional<SharedIpcPolicy> capping =
        weakest(governing, SharedIpcPolicySpec::getStrongestOrphanPolicy);
    if (capping.isPresent()
        && chosen.isStrongerThan(capping.get().getSpec().getStrongestOrphanPolicy())) {
      OrphanPolicy cap = capping.get().getSpec().getStrongestOrphanPolicy();
      return new EffectiveOrphanPolicy(
          cap,
          grace,
          chosen
              + " from "
              + source
              + ", capped to "
              + cap
              + " by SharedIpcPolicy "
              + capping.get().getMetadata().getName());
    }
    return new EffectiveOrphanPolicy(chosen, grace, source);
  }

  /**
   * The policy setting the weakest value of a field, first by name among equals; empty if none sets
   * it.
   */
  private static Optional<SharedIpcPolicy> weakest(
      List<SharedIpcPolicy> policies, Function<SharedIpcPolicySpec, OrphanPolicy> field) {
    return policies.stream()
        .filter(p -> p.getSpec() != null && field.apply(p.getSpec()) != null)
        .min(
            Comparator.<SharedIpcPolicy, OrphanPolicy>comparing(p -> field.apply(p.getSpec()))
                .thenComparing(p -> p.getMetadata().getName()));
  }
}
