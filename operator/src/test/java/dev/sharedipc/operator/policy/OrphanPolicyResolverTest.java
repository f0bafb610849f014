package dev.sharedipc.operator.policy;

import static dev.sharedipc.api.v1alpha1.OrphanPolicy.Delete;
import static dev.sharedipc.api.v1alpha1.OrphanPolicy.Report;
import static dev.sharedipc.operator.Fixtures.group;
import static dev.sharedipc.operator.Fixtures.member;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.api.v1alpha1.EffectiveOrphanPolicy;
import dev.sharedipc.api.v1alpha1.OrphanPolicy;
import dev.sharedipc.api.v1alpha1.SegmentsSpec;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicy;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicySpec;
import dev.sharedipc.operator.assessment.Assessment;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The effective orphan policy, case by case: group setting, policy default, policy cap, compliance.
 */
class OrphanPolicyResolverTest {
  private static final Assessment COMPLIANT = new Assessment(true, "Compliant", "ok");
  private static final Assessment BROKEN =
      new Assessment(false, "PolicyViolation", "sharedMemory.size is above the ceiling");

  /** A policy named name with a default and a strongest orphan policy (either may be null). */
  private static SharedIpcPolicy policy(
      String name, OrphanPolicy defaultPolicy, OrphanPolicy strongest) {
    SharedIpcPolicy policy = new SharedIpcPolicy();
    policy.getMetadata().setName(name);
    SharedIpcPolicySpec spec = new SharedIpcPolicySpec();
    spec.setDefaultOrphanPolicy(defaultPolicy);
    spec.setStrongestOrphanPolicy(strongest);
    policy.setSpec(spec);
    return policy;
  }

  private static SharedIpcGroup groupSaying(OrphanPolicy orphanPolicy) {
    SharedIpcGroup g = group("g", 1, "64Mi", member("w", null, null));
    g.getSpec().setSegments(new SegmentsSpec());
    g.getSpec().getSegments().setOrphanPolicy(orphanPolicy);
    g.getSpec().getSegments().setOrphanGracePeriod("5m");
    return g;
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        // group says, verdict, governing policies -> effective, source contains
        Arguments.of(null, COMPLIANT, List.of(), Report, "built-in default"),
        Arguments.of(
            Delete, COMPLIANT, List.of(), Delete, "spec.segments.orphanPolicy of the group"),
        Arguments.of(
            Report, COMPLIANT, List.of(), Report, "spec.segments.orphanPolicy of the group"),
        Arguments.of(
            null,
            COMPLIANT,
            List.of(policy("a", Delete, null)),
            Delete,
            "defaultOrphanPolicy of SharedIpcPolicy a"),
        Arguments.of(
            Report,
            COMPLIANT,
            List.of(policy("a", Delete, null)),
            Report,
            "spec.segments.orphanPolicy of the group"),
        Arguments.of(
            null,
            COMPLIANT,
            List.of(policy("a", Report, null)),
            Report,
            "defaultOrphanPolicy of SharedIpcPolicy a"),
        Arguments.of(
            Delete,
            COMPLIANT,
            List.of(policy("a", null, Report)),
            Report,
            "Delete from spec.segments.orphanPolicy of the group, capped to Report by SharedIpcPolicy a"),
        Arguments.of(
            Delete,
            COMPLIANT,
            List.of(policy("a", null, Delete)),
            Delete,
            "spec.segments.orphanPolicy of the group"),
        // Several policies: the weakest default and the weakest cap win.
        Arguments.of(
            null,
            COMPLIANT,
            List.of(policy("a", Delete, null), policy("b", Report, null)),
            Report,
            "defaultOrphanPolicy of SharedIpcPolicy b"),
        Arguments.of(
            null,
            COMPLIANT,
            List.of(policy("a", Delete, Delete), policy("b", null, Report)),
            Report,
            "Delete from defaultOrphanPolicy of SharedIpcPolicy a, capped to Report by SharedIpcPolicy b"),
        // A group breaking policy is only reported, whatever it asks for.
        Arguments.of(
            Delete,
            BROKEN,
            List.of(policy("a", Delete, Delete)),
            Report,
            "breaks a SharedIpcPolicy"),
        Arguments.of(
            null, BROKEN, List.of(policy("a", Delete, null)), Report, "breaks a SharedIpcPolicy"));
  }

  @ParameterizedTest(name = "group {0}, {1}, policies {2} -> {3}")
  @MethodSource("cases")
  void resolves(
      OrphanPolicy groupSays,
      Assessment compliance,
      List<SharedIpcPolicy> governing,
      OrphanPolicy expected,
      String source) {
    EffectiveOrphanPolicy effective =
        OrphanPolicyResolver.resolve(groupSaying(groupSays), governing, compliance);
    assertThat(effective.getPolicy()).isEqualTo(expected);
    assertThat(effective.getSource()).contains(source);
    assertThat(effective.getGracePeriod()).isEqualTo("5m");
  }

  @Test
  void aGroupWithoutSegmentsGetsReportAndTheDefaultGracePeriod() {
    SharedIpcGroup g = group("g", 1, "64Mi", member("w", null, null));
    EffectiveOrphanPolicy effective = OrphanPolicyResolver.resolve(g, List.of(), COMPLIANT);
    assertThat(Arrays.asList(effective.getPolicy(), effective.getGracePeriod()))
        .containsExactly(Report, "10m");
  }
}
