package dev.sharedipc.operator.placement;

import static dev.sharedipc.operator.placement.PlacementFixtures.instance;
import static dev.sharedipc.operator.placement.PlacementFixtures.member;
import static dev.sharedipc.operator.placement.PlacementFixtures.node;
import static dev.sharedipc.operator.placement.PlacementFixtures.nodeBuilder;
import static dev.sharedipc.operator.placement.PlacementFixtures.pod;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirementBuilder;
import io.fabric8.kubernetes.api.model.NodeSelectorTerm;
import io.fabric8.kubernetes.api.model.NodeSelectorTermBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.TaintBuilder;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Selectors, required node affinity, and taints against tolerations, each decided through the
 * placer on one node: placed when the scheduler would accept the pods there, NoFit when not.
 */
class NodeConstraintsTest {
  private final InstancePlacer placer = new InstancePlacer();
  // zone=z1, cores=16, disk=ssd; name n1.
  private final NodeInfo n1 =
      node(
          nodeBuilder("n1", "8", "16Gi", 110)
              .editMetadata()
              .addToLabels(Map.of("zone", "z1", "cores", "16", "disk", "ssd"))
              .endMetadata()
              .build());

  private boolean fits(NodeInfo node, PodSpec... members) {
    return placer.place(List.of(instance(0, members)), List.of(node), Map.of(), Set.of()).get(0)
        instanceof NodeChoice.Placed;
  }

  private static NodeSelectorRequirement req(String key, String operator, String values) {
    return new NodeSelectorRequirementBuilder()
        .withKey(key)
        .withOperator(operator)
        .withValues(
            values == null || values.isEmpty() ? List.of() : Arrays.asList(values.split(" ")))
        .build();
  }

  private static PodSpec withAffinity(NodeSelectorTerm... terms) {
    return member("writer", "1", "1Gi")
        .withNewAffinity()
        .withNewNodeAffinity()
        .withNewRequiredDuringSchedulingIgnoredDuringExecution()
        .withNodeSelectorTerms(terms)
        .endRequiredDuringSchedulingIgnoredDuringExecution()
        .endNodeAffinity()
        .endAffinity()
        .build();
  }

  // ---- nodeSelector

  @Test
  void everyMembersNodeSelectorMustMatch() {
    PodSpec ssd = member("writer", "1", "1Gi").addToNodeSelector("disk", "ssd").build();
    PodSpec zone2 = member("reader", "1", "1Gi").addToNodeSelector("zone", "z2").build();
    assertThat(fits(n1, ssd)).isTrue();
    assertThat(fits(n1, ssd, pod("reader", "1", "1Gi"))).isTrue();
    assertThat(fits(n1, ssd, zone2)).isFalse();
  }

  @Test
  void aNodeSelectorPicksTheMatchingNode() {
    NodeInfo hdd =
        node(
            nodeBuilder("a-hdd", "8", "64Gi", 110)
                .editMetadata()
                .addToLabels("disk", "hdd")
                .endMetadata()
                .build());
    PodSpec ssd = member("writer", "1", "1Gi").addToNodeSelector("disk", "ssd").build();
    NodeChoice p =
        placer.place(List.of(instance(0, ssd)), List.of(hdd, n1), Map.of(), Set.of()).get(0);
    assertThat(p).isEqualTo(new NodeChoice.Placed(0, "n1"));
  }

  // ---- required node affinity

  @ParameterizedTest(name = "{0} {1} {2} -> {3}")
  @CsvSource({
    "zone, In, z1 z2, true",
    "zone, In, z2 z3, false",
    "zone, NotIn, z2, true",
    "zone, NotIn, z1, false",
    "absent, NotIn, x, true",
    "disk, Exists, , true",
    "gpu, Exists, , false",
    "gpu, DoesNotExist, , true",
    "disk, DoesNotExist, , false",
    "cores, Gt, 8, true",
    "cores, Gt, 16, false",
    "cores, Lt, 32, true",
    "cores, Lt, 16, false",
    "zone, Gt, 1, false",
    "absent, Gt, 1, false",
  })
  void matchExpressionOperators(String key, String operator, String values, boolean fits) {
    assertThat(
            fits(
                n1,
                withAffinity(
                    new NodeSelectorTermBuilder()
                        .withMatchExpressions(req(key, operator, values))
                        .build())))
        .isEqualTo(fits);
  }

  @ParameterizedTest(name = "metadata.name {0} {1} -> {2}")
  @CsvSource({"In, n1 n2, true", "In, n2, false", "NotIn, n2, true", "NotIn, n1, false"})
  void matchFieldsOnTheNodeName(String operator, String values, boolean fits) {
    assertThat(
            fits(
                n1,
                withAffinity(
                    new NodeSelectorTermBuilder()
                        .withMatchFields(req("metadata.name", operator, values))
                        .build())))
        .isEqualTo(fits);
  }

  @Test
  void expressionsInATermAreAndedAndTermsAreOred() {
    NodeSelectorTerm zoneAndWrongDisk =
        new NodeSelectorTermBuilder()
            .withMatchExpressions(req("zone", "In", "z1"), req("disk", "In", "hdd"))
            .build();
    NodeSelectorTerm byName =
        new NodeSelectorTermBuilder().withMatchFields(req("metadata.name", "In", "n1")).build();
    NodeSelectorTerm labelAndField =
        new NodeSelectorTermBuilder()
            .withMatchExpressions(req("zone", "In", "z1"))
            .withMatchFields(req("metadata.name", "In", "other"))
            .build();
    assertThat(fits(n1, withAffinity(zoneAndWrongDisk))).isFalse();
    assertThat(fits(n1, withAffinity(labelAndField))).isFalse();
    assertThat(fits(n1, withAffinity(zoneAndWrongDisk, byName))).isTrue();
    assertThat(fits(n1, withAffinity(new NodeSelectorTermBuilder().build())))
        .as("an empty term matches nothing")
        .isFalse();
  }

  @Test
  void affinityMessageNamesTheMemberAndTheFailingRequirement() {
    PodSpec writer =
        withAffinity(
            new NodeSelectorTermBuilder().withMatchExpressions(req("zone", "In", "z2 z3")).build());
    NodeChoice.NoFit noFit =
        (NodeChoice.NoFit)
            placer.place(List.of(instance(0, writer)), List.of(n1), Map.of(), Set.of()).get(0);
    assertThat(noFit.message())
        .endsWith(
            "n1 does not match the required node affinity of member writer: zone In [z2, z3]");
  }

  // ---- taints and tolerations

  private static Taint taint(String key, String value, String effect) {
    return new TaintBuilder().withKey(key).withValue(value).withEffect(effect).build();
  }

  private static Toleration toleration(String key, String operator, String value, String effect) {
    return new TolerationBuilder()
        .withKey(key)
        .withOperator(operator)
        .withValue(value)
        .withEffect(effect)
        .build();
  }

  @ParameterizedTest(
      name = "taint {0}={1}:{2}, toleration key={3} op={4} value={5} effect={6} -> {7}")
  @CsvSource({
    // no toleration
    "dedicated, db, NoSchedule, , , , , false",
    "dedicated, db, NoExecute, , , , , false",
    "dedicated, db, PreferNoSchedule, , , , , true",
    // Equal
    "dedicated, db, NoSchedule, dedicated, Equal, db, NoSchedule, true",
    "dedicated, db, NoSchedule, dedicated, Equal, web, NoSchedule, false",
    "dedicated, db, NoSchedule, dedicated, , db, NoSchedule, true",
    "dedicated, db, NoSchedule, other, Equal, db, NoSchedule, false",
    // Exists
    "dedicated, db, NoSchedule, dedicated, Exists, , NoSchedule, true",
    "dedicated, db, NoExecute, dedicated, Exists, , , true",
    "dedicated, db, NoExecute, dedicated, Exists, , NoSchedule, false",
    "dedicated, db, NoExecute, , Exists, , , true",
    "gpu, , NoSchedule, gpu, Exists, , NoSchedule, true",
    "gpu, , NoSchedule, gpu, Equal, , NoSchedule, true",
  })
  void taintsAgainstTolerations(
      String taintKey,
      String taintValue,
      String effect,
      String key,
      String operator,
      String value,
      String tolerationEffect,
      boolean fits) {
    NodeInfo node =
        node(
            nodeBuilder("t", "8", "16Gi", 110)
                .editSpec()
                .addToTaints(taint(taintKey, taintValue, effect))
                .endSpec()
                .build());
    var member = member("writer", "1", "1Gi");
    if (key != null || operator != null) {
      member.addToTolerations(toleration(key, operator, value, tolerationEffect));
    }
    assertThat(fits(node, member.build())).isEqualTo(fits);
  }

  @Test
  void everyMemberMustTolerateEveryHardTaint() {
    NodeInfo node =
        node(
            nodeBuilder("t", "8", "16Gi", 110)
                .editSpec()
                .addToTaints(
                    taint("a", "1", "NoSchedule"),
                    taint("b", "2", "NoExecute"),
                    taint("c", "3", "PreferNoSchedule"))
                .endSpec()
                .build());
    Toleration a = toleration("a", "Equal", "1", "NoSchedule");
    Toleration b = toleration("b", "Exists", null, null);
    PodSpec both = member("writer", "1", "1Gi").addToTolerations(a, b).build();
    PodSpec onlyA = member("reader", "1", "1Gi").addToTolerations(a).build();
    assertThat(fits(node, both)).isTrue();
    assertThat(fits(node, both, onlyA)).isFalse();
    NodeChoice.NoFit noFit =
        (NodeChoice.NoFit)
            placer
                .place(List.of(instance(0, both, onlyA)), List.of(node), Map.of(), Set.of())
                .get(0);
    assertThat(noFit.message())
        .endsWith("t has taint b=2:NoExecute not tolerated by member reader");
  }
}
