package dev.sharedipc.operator.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.api.v1alpha1.SharedIpcPolicy;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicySpec;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicyStatus;
import dev.sharedipc.operator.Fixtures;
import dev.sharedipc.operator.OperatorFixture;
import dev.sharedipc.operator.RunningOperator;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which SharedIpcPolicy changes wake the groups, counted on the real operator's reconciles: groups
 * read only a policy's spec, so only a new generation (or a policy created or deleted) wakes them;
 * the policy controller's own status writes, one per group created under the policy, do not.
 */
class PolicyWakeupsIT extends OperatorFixture {
  private static final Logger LOG = LoggerFactory.getLogger(PolicyWakeupsIT.class);

  PolicyWakeupsIT() {
    super("policy-wakeups");
  }

  @AfterEach
  void removePolicy() {
    client.resources(SharedIpcPolicy.class).withName("broad-" + ns).delete();
  }

  @Test
  void aPolicyStatusWriteReconcilesNoGroupAndASpecChangeReconcilesEach() {
    governThisNamespace();
    List<String> names = List.of("one", "two", "three");
    names.forEach(name -> groups.create(Fixtures.forCluster(name, 0, "64Mi")));
    awaitMatchedGroups(names.size());
    int quiet = RunningOperator.reconciles().awaitQuiet(ns, names, WAIT);

    // A status-only write, as the policy controller makes after every group change.
    SharedIpcPolicy stored = client.resources(SharedIpcPolicy.class).withName("broad-" + ns).get();
    SharedIpcPolicyStatus status = stored.getStatus();
    status.setMatchedGroups(status.getMatchedGroups() + 100);
    client.resource(stored).updateStatus();
    await()
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(5))
        .until(() -> RunningOperator.reconciles().count(ns, names) == quiet);

    // The same event source still delivers what groups read: a new generation wakes each group.
    Map<String, Integer> before =
        names.stream()
            .collect(
                java.util.stream.Collectors.toMap(
                    name -> name, name -> RunningOperator.reconciles().of(ns, name).size()));
    client
        .resources(SharedIpcPolicy.class)
        .withName("broad-" + ns)
        .edit(
            p -> {
              p.getSpec().setMaxSegmentsPerInstance(500);
              return p;
            });
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                names.forEach(
                    name ->
                        assertThat(RunningOperator.reconciles().of(ns, name).size())
                            .as("reconciles of %s", name)
                            .isGreaterThan(before.get(name))));
  }

  /**
   * Each group created under one policy changes the policy's matchedGroups: a status write per
   * group. Were those to wake every group, creating N groups would cost about N²/2 reconciles; it
   * costs each group only its own few.
   */
  @Test
  void creatingGroupsUnderOnePolicyCostsEachGroupOnlyItsOwnReconciles() {
    governThisNamespace();
    int n = 12;
    List<String> names = IntStream.range(0, n).mapToObj(i -> "g" + i).toList();
    names.forEach(name -> groups.create(Fixtures.forCluster(name, 0, "64Mi")));
    awaitMatchedGroups(n);
    int total = RunningOperator.reconciles().awaitQuiet(ns, names, WAIT);
    LOG.info("creating {} groups under one policy cost {} group reconciles", n, total);
    // A new group is reconciled once or twice on its own; n * n / 2 is what policy status writes
    // would add.
    assertThat(total).isLessThanOrEqualTo(3 * n);
  }

  private void governThisNamespace() {
    client
        .namespaces()
        .withName(ns)
        .edit(
            n -> {
              n.getMetadata().setLabels(Map.of("sharedipc-test", ns));
              return n;
            });
    SharedIpcPolicy policy = new SharedIpcPolicy();
    policy.getMetadata().setName("broad-" + ns);
    SharedIpcPolicySpec rules = new SharedIpcPolicySpec();
    rules.setNamespaceSelector(
        new LabelSelectorBuilder().addToMatchLabels("sharedipc-test", ns).build());
    rules.setMaxSegmentsPerInstance(1000);
    policy.setSpec(rules);
    client.resource(policy).create();
  }

  private void awaitMatchedGroups(int count) {
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              SharedIpcPolicy counted =
                  client.resources(SharedIpcPolicy.class).withName("broad-" + ns).get();
              assertThat(counted.getStatus()).isNotNull();
              assertThat(counted.getStatus().getMatchedGroups()).isEqualTo(count);
            });
  }
}
