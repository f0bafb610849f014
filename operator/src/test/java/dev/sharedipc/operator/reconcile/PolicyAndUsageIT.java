package dev.sharedipc.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.api.Labels;
import dev.sharedipc.api.testing.RealApiServer;
import dev.sharedipc.api.v1alpha1.SegmentsSpec;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcNode;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicy;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicySpec;
import dev.sharedipc.operator.DumpOnFailure;
import dev.sharedipc.operator.GroupsInNamespace;
import dev.sharedipc.operator.Fixtures;
import dev.sharedipc.operator.RunningOperator;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Governance by SharedIpcPolicy and usage from SharedIpcNode reports, on the real API server. */
class PolicyAndUsageIT {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static RealApiServer api;
  private static KubernetesClient client;
  private String ns;
  private GroupsInNamespace groups;

  @RegisterExtension
  final DumpOnFailure dump = new DumpOnFailure(() -> client, () -> ns);

  @BeforeAll
  static void start() {
    api = RealApiServer.shared();
    client = api.client();
    RunningOperator.shared();
  }

  @BeforeEach
  void namespace() {
    ns = api.newNamespace("governed");
    groups = new GroupsInNamespace(client, ns);
  }

  @Test
  void groupBreakingAPolicyGetsNoPodsUntilThePolicyAllowsIt() {
    client.namespaces().withName(ns).edit(n -> {
      n.getMetadata().setLabels(Map.of("sharedipc-test", ns));
      return n;
    });
    SharedIpcPolicy policy = new SharedIpcPolicy();
    policy.getMetadata().setName("ceiling-" + ns);
    SharedIpcPolicySpec rules = new SharedIpcPolicySpec();
    rules.setNamespaceSelector(new LabelSelectorBuilder().addToMatchLabels("sharedipc-test", ns).build());
    rules.setMaxSharedMemoryPerInstance(new Quantity("32Mi"));
    policy.setSpec(rules);
    client.resource(policy).create();

    client.resource(Fixtures.forCluster("big", 1, "64Mi")).inNamespace(ns).create();
    SharedIpcGroup judged = groups.awaitCondition("big", "PolicyCompliant", "False", "PolicyViolation");
    assertThat(GroupsInNamespace.condition(judged, "PolicyCompliant").getMessage())
        .contains("sharedMemory.size 64Mi is above the ceiling 32Mi").contains("ceiling-" + ns);
    assertThat(GroupsInNamespace.condition(judged, "Placed").getReason()).isEqualTo("PolicyViolation");
    assertThat(judged.getStatus().getPhase()).isEqualTo("Failed");
    assertThat(client.pods().inNamespace(ns).list().getItems()).isEmpty();
    assertThat(client.v1().events().inNamespace(ns).list().getItems()).extracting(Event::getReason).contains("PolicyViolation");

    // The policy counts what it governs, for the admin.
    await().atMost(WAIT).untilAsserted(() -> {
      SharedIpcPolicy counted = client.resources(SharedIpcPolicy.class).withName("ceiling-" + ns).get();
      assertThat(counted.getStatus().getMatchedGroups()).isEqualTo(1);
      assertThat(counted.getStatus().getViolatingGroups()).isEqualTo(1);
      assertThat(counted.getStatus().getConditions()).singleElement()
          .satisfies(c -> assertThat(c.getStatus() + "/" + c.getReason()).isEqualTo("False/GroupsViolate"));
    });

    // A policy change re-evaluates existing groups.
    client.resources(SharedIpcPolicy.class).withName("ceiling-" + ns).edit(p -> {
      p.getSpec().setMaxSharedMemoryPerInstance(new Quantity("1Gi"));
      return p;
    });
    groups.awaitCondition("big", "PolicyCompliant", "True", "Compliant");
    await().atMost(WAIT).until(() -> client.pods().inNamespace(ns).withLabel(Labels.GROUP, "big").list().getItems().size() == 1);
    await().atMost(WAIT).until(() -> client.resources(SharedIpcPolicy.class).withName("ceiling-" + ns).get()
        .getStatus().getViolatingGroups() == 0);
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
    client.nodes().resource(new io.fabric8.kubernetes.api.model.NodeBuilder().withNewMetadata().withName("node-" + ns)
        .endMetadata().build()).create();
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
    status.setLastScanTime(java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
    status.setIpcNamespaces(List.of(report));
    status.setOrphansRemovedByGroup(Map.of(ns + "/counted", 4L));
    stored.setStatus(status);
    client.resource(stored).updateStatus();

    SharedIpcGroup over = groups.awaitCondition("counted", "WithinQuota", "False", "QuotaExceeded");
    assertThat(GroupsInNamespace.condition(over, "WithinQuota").getMessage()).contains("instance 0 holds 2 segments (maxSegments 1)");
    assertThat(over.getStatus().getUsage().getSegments()).isEqualTo(2);
    assertThat(over.getStatus().getUsage().getBytes()).isEqualTo(2L * 1024 * 1024);
    assertThat(over.getStatus().getUsage().getOrphansRemoved()).isEqualTo(4);
    assertThat(over.getStatus().getInstances().get(0).getSegments().getOrphans()).isEqualTo(1);
    client.resources(SharedIpcNode.class).withName("node-" + ns).delete();
    client.nodes().withName("node-" + ns).delete();
  }


}
