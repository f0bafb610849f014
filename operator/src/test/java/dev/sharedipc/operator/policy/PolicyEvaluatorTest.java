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
}
