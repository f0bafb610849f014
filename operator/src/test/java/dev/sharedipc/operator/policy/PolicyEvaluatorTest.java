package dev.sharedipc.operator.policy;

import static dev.sharedipc.operator.Fixtures.group;
import static dev.sharedipc.operator.Fixtures.member;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.api.v1alpha1.OrphanPolicy;
import dev.sharedipc.api.v1alpha1.Placement;
import dev.sharedipc.api.v1alpha1.SegmentsSpec;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicy;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicySpec;
import dev.sharedipc.operator.assessment.Assessment;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** Each rule of a SharedIpcPolicy, proven both ways. */
class PolicyEvaluatorTest {
  private final PolicyEvaluator evaluator = new PolicyEvaluator();

  private static SharedIpcPolicy policy(String name, Consumer<SharedIpcPolicySpec> rules) {
    SharedIpcPolicy policy = new SharedIpcPolicy();
    policy.getMetadata().setName(name);
    SharedIpcPolicySpec spec = new SharedIpcPolicySpec();
    rules.accept(spec);
    policy.setSpec(spec);
    return policy;
  }

  private static SharedIpcGroup group256() {
    SharedIpcGroup g = group("g", 1, "256Mi", member("w", null, null));
    g.getSpec().setSegments(new SegmentsSpec());
    return g;
  }

  private Assessment judge(SharedIpcGroup g, SharedIpcPolicy... policies) {
    return evaluator.evaluate(g, Map.of("team", "trading"), List.of(policies));
  }

  @Test
  void noPolicyMeansCompliant() {
    assertThat(judge(group256()))
        .isEqualTo(
            new Assessment(true, "NoPolicyApplies", "no SharedIpcPolicy selects namespace ns"));
  }

  @Test
  void namespaceSelectorDecidesWhetherAPolicyApplies() {
    SharedIpcPolicy strict =
        policy(
            "strict",
            p -> {
              p.setNamespaceSelector(
                  new LabelSelectorBuilder().addToMatchLabels("team", "media").build());
              p.setMaxSharedMemoryPerInstance(new Quantity("1Mi"));
            });
    assertThat(judge(group256(), strict).reason()).isEqualTo("NoPolicyApplies");
    strict
        .getSpec()
        .setNamespaceSelector(
            new LabelSelectorBuilder()
                .addNewMatchExpression()
                .withKey("team")
                .withOperator("In")
                .withValues("trading", "media")
                .endMatchExpression()
                .build());
    assertThat(judge(group256(), strict).holds()).isFalse();
  }

  @Test
  void allowedPlacements() {
    SharedIpcPolicy onlySameNode =
        policy("p", p -> p.setAllowedPlacements(List.of(Placement.SameNode)));
    assertThat(judge(group256(), onlySameNode).message())
        .contains("placement SamePod is not allowed")
        .contains("SharedIpcPolicy p");
    onlySameNode.getSpec().setAllowedPlacements(List.of(Placement.SamePod, Placement.SameNode));
    assertThat(judge(group256(), onlySameNode).holds()).isTrue();
  }

  @Test
  void hostIpcNeedsAllowance() {
    SharedIpcGroup g = group256();
    g.getSpec().setPlacement(Placement.SameNode);
    g.getSpec().setHostIPC(true);
    SharedIpcPolicy p = policy("p", s -> s.setAllowHostIPC(false));
    assertThat(judge(g, p).message()).contains("hostIPC is not allowed");
    p.getSpec().setAllowHostIPC(true);
    assertThat(judge(g, p).holds()).isTrue();
  }

  @Test
  void hostIpcIsRefusedWhereNoPolicyApplies() {
    SharedIpcGroup g = group256();
    g.getSpec().setPlacement(Placement.SameNode);
    g.getSpec().setHostIPC(true);
    Assessment v = judge(g);
    assertThat(v.holds()).isFalse();
    assertThat(v.reason()).isEqualTo("HostIPCNotAllowed");
    assertThat(v.message())
        .contains("no SharedIpcPolicy selects namespace ns")
        .contains("allowHostIPC: true");
    SharedIpcPolicy elsewhere =
        policy(
            "elsewhere",
            s -> {
              s.setNamespaceSelector(
                  new LabelSelectorBuilder().addToMatchLabels("team", "media").build());
              s.setAllowHostIPC(true);
            });
    assertThat(judge(g, elsewhere).reason())
        .as("a policy for another namespace allows nothing here")
        .isEqualTo("HostIPCNotAllowed");
  }

  @Test
  void sharedMemoryCeiling() {
    SharedIpcPolicy p = policy("p", s -> s.setMaxSharedMemoryPerInstance(new Quantity("128Mi")));
    assertThat(judge(group256(), p).message())
        .contains("sharedMemory.size 256Mi is above the ceiling 128Mi");
    p.getSpec().setMaxSharedMemoryPerInstance(new Quantity("256Mi"));
    assertThat(judge(group256(), p).holds()).isTrue();
  }

  @Test
  void segmentCeiling() {
    SharedIpcPolicy p = policy("p", s -> s.setMaxSegmentsPerInstance(100));
    assertThat(judge(group256(), p).message())
        .contains("segments.maxSegments 256 is above the ceiling 100");
    SharedIpcGroup small = group256();
    small.getSpec().getSegments().setMaxSegments(100);
    assertThat(judge(small, p).holds()).isTrue();
  }

  @Test
  void byteCeiling() {
    SharedIpcPolicy p = policy("p", s -> s.setMaxBytesPerInstance(new Quantity("1Gi")));
    assertThat(judge(group256(), p).holds()).as("no maxBytes: the ceiling applies").isTrue();
    SharedIpcGroup g = group256();
    g.getSpec().getSegments().setMaxBytes(new Quantity("2Gi"));
    assertThat(judge(g, p).message()).contains("segments.maxBytes 2Gi is above the ceiling 1Gi");
    g.getSpec().getSegments().setMaxBytes(new Quantity("1Gi"));
    assertThat(judge(g, p).holds()).isTrue();
  }

  @Test
  void anOrphanPolicyAboveTheStrongestIsCappedNotAViolation() {
    SharedIpcGroup g = group256();
    g.getSpec().getSegments().setOrphanPolicy(OrphanPolicy.Delete);
    SharedIpcPolicy p = policy("p", s -> s.setStrongestOrphanPolicy(OrphanPolicy.Report));
    assertThat(judge(g, p).holds()).isTrue(); // OrphanPolicyResolverTest shows the cap
  }

  @Test
  void everyBrokenRuleOfEveryApplicablePolicyIsNamed() {
    SharedIpcPolicy a = policy("a", s -> s.setMaxSharedMemoryPerInstance(new Quantity("1Mi")));
    SharedIpcPolicy b = policy("b", s -> s.setMaxSegmentsPerInstance(1));
    Assessment v = judge(group256(), b, a);
    assertThat(v.reason()).isEqualTo("PolicyViolation");
    assertThat(v.message()).contains("SharedIpcPolicy a").contains("SharedIpcPolicy b");
  }

  // ---- a namespaceSelector the operator cannot evaluate (stored before the CRD checked it) ----

  private static SharedIpcPolicy unusable(String name, Consumer<SharedIpcPolicySpec> rules) {
    return policy(
        name,
        p -> {
          p.setNamespaceSelector(
              new LabelSelectorBuilder()
                  .addNewMatchExpression()
                  .withKey("team")
                  .withValues("media")
                  .endMatchExpression()
                  .build());
          rules.accept(p);
        });
  }

  @Test
  void anExpressionWithoutOperatorFailsClosedInsteadOfThrowing() {
    SharedIpcPolicy broken =
        unusable("typo", p -> p.setMaxSharedMemoryPerInstance(new Quantity("1Mi")));
    Assessment judged = judge(group256(), broken);
    assertThat(judged.holds()).isFalse();
    assertThat(judged.message())
        .contains("sharedMemory.size 256Mi is above the ceiling 1Mi (SharedIpcPolicy typo")
        .contains("matchExpressions[0] has no operator")
        .contains("governs every namespace with its limits and grants nothing");
  }

  @Test
  void aMisspeltOperatorAppliesTheLimitsEverywhere() {
    SharedIpcPolicy misspelt =
        policy(
            "misspelt",
            p -> {
              p.setNamespaceSelector(
                  new LabelSelectorBuilder()
                      .addNewMatchExpression()
                      .withKey("team")
                      .withOperator("in")
                      .withValues("media")
                      .endMatchExpression()
                      .build());
              p.setMaxSegmentsPerInstance(8);
            });
    assertThat(PolicyEvaluator.governing(Map.of("team", "trading"), List.of(misspelt)))
        .extracting(p -> p.getMetadata().getName())
        .containsExactly("misspelt");
    assertThat(judge(group256(), misspelt).message())
        .contains("segments.maxSegments 256 is above the ceiling 8 (SharedIpcPolicy misspelt")
        .contains(
            "matchExpressions[0] has operator \"in\", not one of In, NotIn, Exists, DoesNotExist");
  }

  @Test
  void anUnusablePolicyGrantsNoHostIpcAndNoDeleteDefault() {
    SharedIpcGroup g = group256();
    g.getSpec().setPlacement(Placement.SameNode);
    g.getSpec().setHostIPC(true);
    SharedIpcPolicy generous =
        unusable(
            "generous",
            p -> {
              p.setAllowHostIPC(true);
              p.setDefaultOrphanPolicy(OrphanPolicy.Delete);
            });
    Assessment judged = judge(g, generous);
    assertThat(judged.holds()).isFalse();
    assertThat(judged.message()).contains("hostIPC is not allowed").contains("generous");
    List<SharedIpcPolicy> governing =
        PolicyEvaluator.governing(Map.of("team", "trading"), List.of(generous));
    assertThat(governing.get(0).getSpec().getDefaultOrphanPolicy()).isEqualTo(OrphanPolicy.Report);
    assertThat(generous.getSpec().getAllowHostIPC()).as("the cached policy is untouched").isTrue();
  }

  @Test
  void valuesWithExistsOrNoValuesWithInAreUnusableToo() {
    assertThat(
            PolicySelector.problem(
                new LabelSelectorBuilder()
                    .addNewMatchExpression()
                    .withKey("a")
                    .withOperator("Exists")
                    .withValues("x")
                    .endMatchExpression()
                    .addNewMatchExpression()
                    .withKey("b")
                    .withOperator("NotIn")
                    .endMatchExpression()
                    .addNewMatchExpression()
                    .withOperator("DoesNotExist")
                    .endMatchExpression()
                    .build()))
        .contains(
            "matchExpressions[0] has operator Exists and values, which it takes none of;"
                + " matchExpressions[1] has operator NotIn and no values;"
                + " matchExpressions[2] has no key");
    assertThat(
            PolicySelector.problem(
                new LabelSelectorBuilder()
                    .addToMatchLabels("team", "a")
                    .addNewMatchExpression()
                    .withKey("b")
                    .withOperator("DoesNotExist")
                    .endMatchExpression()
                    .build()))
        .isEmpty();
  }

  /** Sizes and ceilings beyond what a long holds (stored before the CRD bounded them). */
  @Test
  void sizesAndCeilingsBeyond8EiAreComparedNotThrown() {
    SharedIpcGroup huge = group("huge", 1, "9Ei", member("w", null, null));
    SharedIpcPolicy ceiling =
        policy("ceiling", p -> p.setMaxSharedMemoryPerInstance(new Quantity("1Gi")));
    assertThat(judge(huge, ceiling).message())
        .contains("sharedMemory.size 9Ei is above the ceiling 1Gi");
    SharedIpcPolicy sky = policy("sky", p -> p.setMaxSharedMemoryPerInstance(new Quantity("10Ei")));
    assertThat(judge(group256(), sky).holds()).isTrue();
    SharedIpcGroup bytes = group256();
    bytes.getSpec().getSegments().setMaxBytes(new Quantity("9Ei"));
    SharedIpcPolicy byteCeiling =
        policy("bytes", p -> p.setMaxBytesPerInstance(new Quantity("9Ei")));
    assertThat(judge(bytes, byteCeiling).holds()).isTrue();
  }
}
