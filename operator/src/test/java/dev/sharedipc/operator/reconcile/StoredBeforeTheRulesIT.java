package dev.sharedipc.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.api.Labels;
import dev.sharedipc.api.v1alpha1.Placement;
import dev.sharedipc.api.v1alpha1.Rules;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicy;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicySpec;
import dev.sharedipc.operator.Fixtures;
import dev.sharedipc.operator.GroupsInNamespace;
import dev.sharedipc.operator.OperatorFixture;
import dev.sharedipc.operator.render.GroupRenderer;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Objects the CRDs refuse today but an older CRD let in, as a cluster holds them after an upgrade
 * (stored through {@code RealApiServer.writtenUnderAnOlderCrd}): each marks only itself invalid,
 * with a condition and an Event, and no other group stops.
 */
class StoredBeforeTheRulesIT extends OperatorFixture {
  StoredBeforeTheRulesIT() {
    super("stored-before");
  }

  @AfterEach
  void removePolicy() {
    client.resources(SharedIpcPolicy.class).withName("misspelt-" + ns).delete();
  }

  @Test
  void aSameNodeGroupEditedTo8EiIsInvalidAloneAndOtherSameNodeGroupsArePlaced() throws IOException {
    String node = readyNode("a");
    groups.create(sameNode("huge"));
    await().atMost(WAIT).until(() -> pods("huge").size() == 2);
    for (Pod pod : pods("huge")) {
      kubelet.run(pod, GroupRenderer.pinnedNode(pod), true);
    }
    groups.awaitCondition("huge", "Ready", "True", "AllInstancesReady");

    api.writtenUnderAnOlderCrd(
        "sharedipcgroups.sharedipc.dev",
        Rules.MAX_BYTES,
        () ->
            client
                .resources(SharedIpcGroup.class)
                .inNamespace(ns)
                .withName("huge")
                .edit(
                    g -> {
                      g.getSpec().getSharedMemory().setSize(new Quantity("8Ei"));
                      return g;
                    }));

    SharedIpcGroup invalid =
        groups.awaitCondition("huge", "Placed", "False", GroupRenderer.SIZE_OUT_OF_RANGE);
    assertThat(GroupsInNamespace.condition(invalid, "Placed").getMessage())
        .contains(
            "spec.sharedMemory.size 8Ei is not a size the operator and the CSI driver can hold");
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> assertThat(groups.eventReasons()).contains(GroupRenderer.SIZE_OUT_OF_RANGE));
    assertThat(pods("huge")).as("its running members are left alone").hasSize(2);

    // Another SameNode group is placed: placement reads every pod's claim, the 8Ei group's too.
    groups.create(sameNode("bystander"));
    await().atMost(WAIT).until(() -> pods("bystander").size() == 2);
    assertThat(pods("bystander"))
        .allSatisfy(p -> assertThat(GroupRenderer.pinnedNode(p)).isEqualTo(node));
    assertThat(groups.eventReasons()).doesNotContain("ReconcileFailed");
  }

  @Test
  void aPolicyWithAMisspeltOperatorIsInvalidAndAppliesItsLimitsToEveryNamespace()
      throws IOException {
    // A group in a namespace the policy was never meant for, above its ceiling.
    SharedIpcGroup large = Fixtures.forCluster("large", 0, "2Ti");
    groups.create(large);
    groups.awaitCondition("large", "PolicyCompliant", "True", "NoPolicyApplies");

    SharedIpcPolicy misspelt = new SharedIpcPolicy();
    misspelt.getMetadata().setName("misspelt-" + ns);
    SharedIpcPolicySpec rules = new SharedIpcPolicySpec();
    rules.setNamespaceSelector(
        new LabelSelectorBuilder()
            .addNewMatchExpression()
            .withKey("team")
            .withOperator("in")
            .withValues("team-" + ns)
            .endMatchExpression()
            .build());
    rules.setMaxSharedMemoryPerInstance(new Quantity("1Ti"));
    misspelt.setSpec(rules);
    api.writtenUnderAnOlderCrd(
        "sharedipcpolicies.sharedipc.dev",
        "self.operator in",
        () -> client.resource(misspelt).create());

    // Fails closed: the limit applies everywhere, and the group's condition says why.
    SharedIpcGroup governed =
        groups.awaitCondition("large", "PolicyCompliant", "False", "PolicyViolation");
    assertThat(GroupsInNamespace.condition(governed, "PolicyCompliant").getMessage())
        .contains("sharedMemory.size 2Ti is above the ceiling 1Ti (SharedIpcPolicy misspelt-" + ns)
        .contains("matchExpressions[0] has operator \"in\"");

    // The policy says it is unusable, in its status and in a Warning Event.
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              SharedIpcPolicy stored =
                  client.resources(SharedIpcPolicy.class).withName("misspelt-" + ns).get();
              assertThat(stored.getStatus()).isNotNull();
              Condition valid =
                  stored.getStatus().getConditions().stream()
                      .filter(c -> "Valid".equals(c.getType()))
                      .findFirst()
                      .orElseThrow();
              assertThat(valid.getStatus() + "/" + valid.getReason())
                  .isEqualTo("False/InvalidNamespaceSelector");
              assertThat(valid.getMessage())
                  .contains("namespaceSelector cannot be evaluated")
                  .contains("governs every namespace");
              assertThat(stored.getStatus().getMatchedGroups()).isPositive();
            });
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(
                        client.v1().events().inNamespace("default").list().getItems().stream()
                            .filter(
                                e -> ("misspelt-" + ns).equals(e.getInvolvedObject().getName())))
                    .extracting(Event::getType, Event::getReason)
                    .contains(
                        org.assertj.core.groups.Tuple.tuple(
                            "Warning", "InvalidNamespaceSelector")));

    // Fixed, it governs only what it selects: the group complies again.
    client
        .resources(SharedIpcPolicy.class)
        .withName("misspelt-" + ns)
        .edit(
            p -> {
              p.getSpec().getNamespaceSelector().getMatchExpressions().get(0).setOperator("In");
              return p;
            });
    groups.awaitCondition("large", "PolicyCompliant", "True", "NoPolicyApplies");
  }

  private SharedIpcGroup sameNode(String name) {
    SharedIpcGroup group = Fixtures.forCluster(name, 1, "64Mi");
    group.getSpec().setPlacement(Placement.SameNode);
    group
        .getSpec()
        .getMembers()
        .forEach(
            m -> {
              m.getTemplate().getSpec().setNodeSelector(Map.of("sharedipc-test", ns));
              m.getTemplate()
                  .getSpec()
                  .getContainers()
                  .get(0)
                  .getResources()
                  .setRequests(
                      new HashMap<>(
                          Map.of("cpu", new Quantity("100m"), "memory", new Quantity("64Mi"))));
            });
    return group;
  }

  private List<Pod> pods(String group) {
    return client.pods().inNamespace(ns).withLabel(Labels.GROUP, group).list().getItems().stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .toList();
  }
}
