package dev.sharedipc.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.api.Labels;
import dev.sharedipc.api.v1alpha1.EffectiveOrphanPolicy;
import dev.sharedipc.api.v1alpha1.OrphanPolicy;
import dev.sharedipc.api.v1alpha1.Placement;
import dev.sharedipc.api.v1alpha1.SegmentsSpec;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcNode;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicy;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicySpec;
import dev.sharedipc.operator.Fixtures;
import dev.sharedipc.operator.GroupsInNamespace;
import dev.sharedipc.operator.OperatorFixture;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Governance by SharedIpcPolicy and usage from SharedIpcNode reports, on the real API server. */
class PolicyAndUsageIT extends OperatorFixture {
  PolicyAndUsageIT() {
    super("governed");
  }

  @Test
  void groupBreakingAPolicyGetsNoPodsUntilThePolicyAllowsIt() {
    client
        .namespaces()
        .withName(ns)
        .edit(
            n -> {
              n.getMetadata().setLabels(Map.of("sharedipc-test", ns));
              return n;
            });
    SharedIpcPolicy policy = new SharedIpcPolicy();
    policy.getMetadata().setName("ceiling-" + ns);
    SharedIpcPolicySpec rules = new SharedIpcPolicySpec();
    rules.setNamespaceSelector(
        new LabelSelectorBuilder().addToMatchLabels("sharedipc-test", ns).build());
    rules.setMaxSharedMemoryPerInstance(new Quantity("32Mi"));
    policy.setSpec(rules);
    client.resource(policy).create();

    client.resource(Fixtures.forCluster("big", 1, "64Mi")).inNamespace(ns).create();
    SharedIpcGroup judged =
        groups.awaitCondition("big", "PolicyCompliant", "False", "PolicyViolation");
    assertThat(GroupsInNamespace.condition(judged, "PolicyCompliant").getMessage())
        .contains("sharedMemory.size 64Mi is above the ceiling 32Mi")
        .contains("ceiling-" + ns);
    assertThat(GroupsInNamespace.condition(judged, "Placed").getReason())
        .isEqualTo("PolicyViolation");
    assertThat(judged.getStatus().getPhase()).isEqualTo("Failed");
    assertThat(client.pods().inNamespace(ns).list().getItems()).isEmpty();
    assertThat(client.v1().events().inNamespace(ns).list().getItems())
        .extracting(Event::getReason)
        .contains("PolicyViolation");

    // The policy counts what it governs, for the admin.
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              SharedIpcPolicy counted =
                  client.resources(SharedIpcPolicy.class).withName("ceiling-" + ns).get();
              assertThat(counted.getStatus().getMatchedGroups()).isEqualTo(1);
              assertThat(counted.getStatus().getViolatingGroups()).isEqualTo(1);
              assertThat(counted.getStatus().getConditions())
                  .filteredOn(c -> "GroupsCompliant".equals(c.getType()))
                  .singleElement()
                  .satisfies(
                      c ->
                          assertThat(c.getStatus() + "/" + c.getReason())
                              .isEqualTo("False/GroupsViolate"));
            });

    // A policy change re-evaluates existing groups.
    client
        .resources(SharedIpcPolicy.class)
        .withName("ceiling-" + ns)
        .edit(
            p -> {
              p.getSpec().setMaxSharedMemoryPerInstance(new Quantity("1Gi"));
              return p;
            });
    groups.awaitCondition("big", "PolicyCompliant", "True", "Compliant");
    await()
        .atMost(WAIT)
        .until(
            () ->
                client
                        .pods()
                        .inNamespace(ns)
                        .withLabel(Labels.GROUP, "big")
                        .list()
                        .getItems()
                        .size()
                    == 1);
    await()
        .atMost(WAIT)
        .until(
            () ->
                client
                        .resources(SharedIpcPolicy.class)
                        .withName("ceiling-" + ns)
                        .get()
                        .getStatus()
                        .getViolatingGroups()
                    == 0);
    client.resources(SharedIpcPolicy.class).withName("ceiling-" + ns).delete();
  }

  @Test
  void nodeReportsBecomeGroupUsageAndQuota() {
    SharedIpcGroup group = Fixtures.forCluster("counted", 1, "64Mi");
    group.getSpec().setSegments(new SegmentsSpec());
    group.getSpec().getSegments().setMaxSegments(1);
    client.resource(group).inNamespace(ns).create();
    groups.awaitCondition("counted", "WithinQuota", "Unknown", "NoAgentReport");

    // A report counts while its Node exists and its last scan is recent.
    client
        .nodes()
        .resource(
            new io.fabric8.kubernetes.api.model.NodeBuilder()
                .withNewMetadata()
                .withName("node-" + ns)
                .endMetadata()
                .build())
        .create();
    SharedIpcNode node = new SharedIpcNode();
    node.getMetadata().setName("node-" + ns);
    client.resource(node).create();
    SharedIpcNodeStatus.NamespaceReport report = new SharedIpcNodeStatus.NamespaceReport();
    report.inode = 4026532000L;
    report.podNamespace = ns;
    report.podName = "counted-0";
    report.group = "counted";
    report.instance = 0;
    report.segments = 2L;
    report.bytes = 2L * 1024 * 1024;
    report.rssBytes = 1024L * 1024;
    report.orphans = 1L;
    // Written as the node's agent writes it: the status subresource of its own SharedIpcNode.
    SharedIpcNode stored = client.resources(SharedIpcNode.class).withName("node-" + ns).get();
    SharedIpcNodeStatus status = new SharedIpcNodeStatus();
    status.setLastScanTime(
        java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
    status.setIpcNamespaces(List.of(report));
    status.setOrphansRemovedByGroup(Map.of(ns + "/counted", 4L));
    stored.setStatus(status);
    client.resource(stored).updateStatus();

    SharedIpcGroup over = groups.awaitCondition("counted", "WithinQuota", "False", "QuotaExceeded");
    assertThat(GroupsInNamespace.condition(over, "WithinQuota").getMessage())
        .contains("instance 0 holds 2 segments (maxSegments 1)");
    assertThat(over.getStatus().getUsage().getSegments()).isEqualTo(2);
    assertThat(over.getStatus().getUsage().getBytes()).isEqualTo(2L * 1024 * 1024);
    assertThat(over.getStatus().getUsage().getOrphansRemoved()).isEqualTo(4);
    assertThat(over.getStatus().getInstances().get(0).getSegments().getOrphans()).isEqualTo(1);
    client.resources(SharedIpcNode.class).withName("node-" + ns).delete();
    client.nodes().withName("node-" + ns).delete();
  }

  @Test
  void deleteAboveAPolicysStrongestIsPublishedAsReport() {
    SharedIpcPolicy cap =
        governNamespace("cap", rules -> rules.setStrongestOrphanPolicy(OrphanPolicy.Report));
    SharedIpcGroup group = Fixtures.forCluster("capped", 0, "64Mi");
    group.getSpec().setSegments(new SegmentsSpec());
    group.getSpec().getSegments().setOrphanPolicy(OrphanPolicy.Delete);
    groups.create(group);
    EffectiveOrphanPolicy effective = awaitEffectiveOrphanPolicy("capped", OrphanPolicy.Report);
    assertThat(effective.getSource())
        .contains("capped to Report by SharedIpcPolicy " + cap.getMetadata().getName());
    assertThat(effective.getGracePeriod()).isEqualTo("10m");
    // Capped, not refused: the group still runs.
    groups.awaitCondition("capped", "PolicyCompliant", "True", "Compliant");
    client.resource(cap).delete();
  }

  @Test
  void aGroupWithoutOrphanPolicyGetsThePolicysDefault() {
    SharedIpcPolicy defaulting =
        governNamespace("default", rules -> rules.setDefaultOrphanPolicy(OrphanPolicy.Delete));
    SharedIpcGroup group = Fixtures.forCluster("defaulted", 0, "64Mi");
    group.getSpec().setSegments(new SegmentsSpec());
    group.getSpec().getSegments().setMaxSegments(8);
    groups.create(group);
    assertThat(groups.get("defaulted").getSpec().getSegments().getOrphanPolicy())
        .as("the CRD adds no orphanPolicy")
        .isNull();
    EffectiveOrphanPolicy effective = awaitEffectiveOrphanPolicy("defaulted", OrphanPolicy.Delete);
    assertThat(effective.getSource())
        .contains("defaultOrphanPolicy of SharedIpcPolicy " + defaulting.getMetadata().getName());
    client.resource(defaulting).delete();
  }

  @Test
  void withoutAPolicyTheGroupsOwnOrphanPolicyIsPublished() {
    SharedIpcGroup group = Fixtures.forCluster("own", 0, "64Mi");
    group.getSpec().setSegments(new SegmentsSpec());
    group.getSpec().getSegments().setOrphanPolicy(OrphanPolicy.Delete);
    group.getSpec().getSegments().setOrphanGracePeriod("90s");
    groups.create(group);
    EffectiveOrphanPolicy effective = awaitEffectiveOrphanPolicy("own", OrphanPolicy.Delete);
    assertThat(effective.getGracePeriod()).isEqualTo("90s");
    assertThat(effective.getSource()).contains("spec.segments.orphanPolicy of the group");
  }

  @Test
  void hostIpcGroupInANamespaceNoPolicySelectsGetsNoPods() {
    // The label satisfies the ValidatingAdmissionPolicy of deploy/ (if another test installed it):
    // the operator's own rule must refuse the group all the same.
    client
        .namespaces()
        .withName(ns)
        .edit(
            n -> {
              n.getMetadata().setLabels(Map.of("sharedipc.dev/host-ipc", "allowed"));
              return n;
            });
    SharedIpcGroup group = Fixtures.forCluster("host", 1, "64Mi");
    group.getSpec().setPlacement(Placement.SameNode);
    group.getSpec().setHostIPC(true);
    group.getSpec().setSegments(new SegmentsSpec());
    group.getSpec().getSegments().setOrphanPolicy(OrphanPolicy.Delete);
    groups.create(group);
    SharedIpcGroup judged =
        groups.awaitCondition("host", "PolicyCompliant", "False", "HostIPCNotAllowed");
    assertThat(GroupsInNamespace.condition(judged, "PolicyCompliant").getMessage())
        .contains("no SharedIpcPolicy selects namespace " + ns)
        .contains("allowHostIPC: true");
    assertThat(GroupsInNamespace.condition(judged, "Placed").getReason())
        .isEqualTo("PolicyViolation");
    assertThat(judged.getStatus().getEffectiveOrphanPolicy().getPolicy())
        .isEqualTo(OrphanPolicy.Report);
    assertThat(judged.getStatus().getAdmitted()).isNull();
    assertThat(client.pods().inNamespace(ns).list().getItems()).isEmpty();
  }

  @Test
  void aViolationStopsChangesButLostPodsAreRecreatedWithTheAdmittedSpec() {
    groups.create(Fixtures.forCluster("kept", 2, "64Mi"));
    await().atMost(WAIT).until(() -> pods("kept").size() == 2);
    for (Pod pod : pods("kept")) {
      kubelet.run(pod, "node-a", true);
    }
    SharedIpcGroup running = groups.awaitCondition("kept", "Ready", "True", "AllInstancesReady");
    assertThat(running.getStatus().getAdmitted().getGeneration())
        .isEqualTo(running.getMetadata().getGeneration());
    long admittedGeneration = running.getMetadata().getGeneration();
    Pod lost = client.pods().inNamespace(ns).withName("kept-0").get();
    String admittedHash = lost.getMetadata().getAnnotations().get(Labels.TEMPLATE_HASH_ANNOTATION);

    // The admin tightens policy under the running group.
    SharedIpcPolicy ceiling =
        governNamespace(
            "tight", rules -> rules.setMaxSharedMemoryPerInstance(new Quantity("32Mi")));
    SharedIpcGroup judged =
        groups.awaitCondition("kept", "PolicyCompliant", "False", "PolicyViolation");
    assertThat(GroupsInNamespace.condition(judged, "PolicyCompliant").getMessage())
        .contains("sharedMemory.size 64Mi is above the ceiling 32Mi")
        .contains("running instances keep the spec of generation " + admittedGeneration)
        .contains("new instances and spec changes wait");

    // A drain takes one pod: it comes back, with the spec it ran.
    client.pods().inNamespace(ns).withName("kept-0").withGracePeriod(0).delete();
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              Pod back = client.pods().inNamespace(ns).withName("kept-0").get();
              assertThat(back).isNotNull();
              assertThat(back.getMetadata().getUid()).isNotEqualTo(lost.getMetadata().getUid());
              assertThat(back.getMetadata().getAnnotations())
                  .containsEntry(Labels.TEMPLATE_HASH_ANNOTATION, admittedHash);
            });

    // Scaling up and changing the spec wait: no third instance, no replacement.
    groups.edit(
        "kept",
        g -> {
          g.getSpec().setReplicas(3);
          g.getSpec()
              .getMembers()
              .get(0)
              .getTemplate()
              .getSpec()
              .getContainers()
              .get(0)
              .setImage("busybox:1.37");
          return g;
        });
    long changed = groups.get("kept").getMetadata().getGeneration();
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              SharedIpcGroup g = groups.get("kept");
              assertThat(g.getStatus().getObservedGeneration()).isEqualTo(changed);
              assertThat(g.getStatus().getInstances().get(2).getMessage())
                  .contains("new instances and spec changes wait");
            });
    assertThat(pods("kept"))
        .extracting(p -> p.getMetadata().getName())
        .containsExactlyInAnyOrder("kept-0", "kept-1");
    assertThat(pods("kept"))
        .allSatisfy(
            p -> {
              assertThat(p.getMetadata().getDeletionTimestamp()).isNull();
              assertThat(p.getMetadata().getAnnotations())
                  .containsEntry(Labels.TEMPLATE_HASH_ANNOTATION, admittedHash);
            });
    // Even after the spec change, a lost pod comes back with the admitted spec, not the new one.
    String lostUid = client.pods().inNamespace(ns).withName("kept-1").get().getMetadata().getUid();
    client.pods().inNamespace(ns).withName("kept-1").withGracePeriod(0).delete();
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              Pod back = client.pods().inNamespace(ns).withName("kept-1").get();
              assertThat(back).isNotNull();
              assertThat(back.getMetadata().getUid()).isNotEqualTo(lostUid);
              assertThat(back.getMetadata().getAnnotations())
                  .containsEntry(Labels.TEMPLATE_HASH_ANNOTATION, admittedHash);
              assertThat(back.getSpec().getContainers())
                  .extracting(c -> c.getImage())
                  .containsOnly("busybox:1.36");
            });
    assertThat(groups.get("kept").getStatus().getAdmitted().getGeneration())
        .isEqualTo(admittedGeneration);

    // Once the group complies again, the waiting changes go through.
    client.resource(ceiling).delete();
    groups.awaitCondition("kept", "PolicyCompliant", "True", "NoPolicyApplies");
    await().atMost(WAIT).until(() -> pods("kept").size() == 3);
  }

  private List<Pod> pods(String group) {
    return client.pods().inNamespace(ns).withLabel(Labels.GROUP, group).list().getItems();
  }

  /** Labels the test namespace and creates a policy selecting only it. */
  private SharedIpcPolicy governNamespace(
      String name, java.util.function.Consumer<SharedIpcPolicySpec> rules) {
    client
        .namespaces()
        .withName(ns)
        .edit(
            n -> {
              n.getMetadata().setLabels(Map.of("sharedipc-test", ns));
              return n;
            });
    SharedIpcPolicy policy = new SharedIpcPolicy();
    policy.getMetadata().setName(name + "-" + ns);
    SharedIpcPolicySpec spec = new SharedIpcPolicySpec();
    spec.setNamespaceSelector(
        new LabelSelectorBuilder().addToMatchLabels("sharedipc-test", ns).build());
    rules.accept(spec);
    policy.setSpec(spec);
    return client.resource(policy).create();
  }

  private EffectiveOrphanPolicy awaitEffectiveOrphanPolicy(String group, OrphanPolicy expected) {
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              SharedIpcGroup g = groups.get(group);
              assertThat(g.getStatus()).isNotNull();
              assertThat(g.getStatus().getEffectiveOrphanPolicy()).isNotNull();
              assertThat(g.getStatus().getEffectiveOrphanPolicy().getPolicy()).isEqualTo(expected);
            });
    return groups.get(group).getStatus().getEffectiveOrphanPolicy();
  }
}
