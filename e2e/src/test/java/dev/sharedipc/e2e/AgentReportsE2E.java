package dev.sharedipc.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.api.v1alpha1.EffectiveOrphanPolicy;
import dev.sharedipc.api.v1alpha1.InstanceStatus;
import dev.sharedipc.api.v1alpha1.OrphanPolicy;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcNode;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicy;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicySpec;
import dev.sharedipc.e2e.harness.E2EEnvironment;
import dev.sharedipc.e2e.harness.E2EExtension;
import dev.sharedipc.e2e.harness.TestNamespace;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node agent and the operator together, on the local control plane, with real IPC namespaces
 * and real System V segments: a SamePod group's pod runs on a KWOK node; a real IPC namespace of
 * this host is mapped to that pod by a fixture proc root ({@code <pid>/cgroup} naming the pod's
 * UID, {@code <pid>/ns/ipc} linking the real namespace); the agent runs as a process, as the agent
 * of that node (a node-bound token of its ServiceAccount, so deploy/'s admission policy lets it
 * write its own node's SharedIpcNode), and:
 *
 * <ul>
 *   <li>reports the namespace's segments into the node's SharedIpcNode, which the operator sums
 *       into the group's status: {@code usage.segments}, {@code instances[0].segments}, and
 *       WithinQuota True or False where it was Unknown (no agent report) before;
 *   <li>under {@code orphanPolicy: Delete} removes the orphaned segment (and only it: an attached
 *       one is kept), which shows as {@code usage.orphansRemoved} and an Event {@code
 *       OrphanSegmentRemoved} on the pod;
 *   <li>under {@code Report} keeps it, reported as an orphan ({@code
 *       instances[0].segments.orphans}, the node's {@code topOrphans} with action Kept), with no
 *       removal Event.
 * </ul>
 *
 * Needs root (unshare, setns, IPC_RMID): skipped otherwise, failed under CI=true. Every process it
 * starts is killed and every segment it makes removed after each test, whatever the outcome.
 */
@ExtendWith(E2EExtension.class)
@Order(1) // with the scenarios that leave the operator and API server alone
class AgentReportsE2E {
  private static final String GROUP = "feed";
  private static final long ORPHAN_BYTES = 256 * 1024;
  private static final long HELD_BYTES = 4096;
  private static final Duration AGENT_CONVERGE = Duration.ofSeconds(60);

  @TempDir Path tmp;
  private RealIpc ipc;
  private NodeAgent agent;

  /** The node whose report the agent wrote, and who can delete it. */
  private String reportedNode;

  private E2EEnvironment env;

  @BeforeAll
  static void needsRoot() {
    RealIpc.requireRootAndTools();
  }

  @AfterEach
  void stopEverythingStarted() {
    if (agent != null) {
      agent.close();
    }
    if (ipc != null) {
      ipc.close();
    }
    // The report outlives its agent (it counts until it is older than the operator's maximum report
    // age): the next scenario on this node must start from no report at all.
    if (reportedNode != null) {
      env.admin().resources(SharedIpcNode.class).withName(reportedNode).delete();
    }
  }

  /** What a scenario set up: the group's pod, its node, the namespace, and the segments in it. */
  private record Setup(Pod pod, String node, RealIpc.Ns ns, int held, int orphan) {}

  @Test
  void orphanIsRemovedUnderDeleteAndCountedInTheGroupsStatus(E2EEnvironment env, TestNamespace ns)
      throws Exception {
    Groups groups = new Groups(env.admin(), ns.name());
    Setup s = setUp(env, ns, groups, "Delete", 256);
    try {
      await(
              "the orphan removed, the attached segment kept, and both reported (agent log "
                  + agent.log()
                  + ")")
          .atMost(AGENT_CONVERGE)
          .pollInterval(Groups.POLL)
          .untilAsserted(
              () -> {
                assertThat(agent.isAlive()).as("agent alive").isTrue();
                assertThat(ipc.shmids(s.ns()))
                    .as("segments left in the pod's IPC namespace")
                    .containsExactly(s.held());

                SharedIpcNodeStatus node = nodeStatus(env, s.node());
                String groupUid = groups.get(GROUP).getMetadata().getUid();
                assertThat(node.getOrphansRemovedByGroup())
                    .as("SharedIpcNode %s orphansRemovedByGroup", s.node())
                    .containsEntry(ns.name() + "/" + GROUP, 1L);
                assertThat(node.getOrphansRemovedByGroupUid())
                    .as("SharedIpcNode %s orphansRemovedByGroupUid", s.node())
                    .containsEntry(groupUid, 1L);
                // (topOrphans names the orphan with action Removed only in the pass that removed
                // it.)
                assertThat(node.getIpcNamespaces())
                    .as("SharedIpcNode %s ipcNamespaces", s.node())
                    .anySatisfy(
                        r -> {
                          assertThat(r.podUid).isEqualTo(s.pod().getMetadata().getUid());
                          assertThat(r.podNamespace).isEqualTo(ns.name());
                          assertThat(r.group).isEqualTo(GROUP);
                          assertThat(r.groupUid).isEqualTo(groupUid);
                          assertThat(r.instance).isZero();
                          assertThat(r.segments).isEqualTo(1L);
                          assertThat(r.orphans).isZero();
                        });

                SharedIpcGroup group = groups.get(GROUP);
                assertThat(group.getStatus().getUsage()).as("status.usage").isNotNull();
                assertThat(group.getStatus().getUsage().getOrphansRemoved())
                    .as("status.usage.orphansRemoved")
                    .isEqualTo(1L);
                assertThat(group.getStatus().getUsage().getSegments())
                    .as("status.usage.segments")
                    .isEqualTo(1L);
                assertThat(group.getStatus().getUsage().getBytes())
                    .as("status.usage.bytes")
                    .isEqualTo(HELD_BYTES);
                InstanceStatus instance = instance0(group);
                assertThat(instance.getSegments()).as("status.instances[0].segments").isNotNull();
                assertThat(instance.getSegments().getCount())
                    .as("status.instances[0].segments.count")
                    .isEqualTo(1L);
                assertThat(instance.getSegments().getOrphans())
                    .as("status.instances[0].segments.orphans")
                    .isZero();
                Condition quota = Groups.condition(group, "WithinQuota");
                assertThat(quota.getStatus())
                    .as("WithinQuota: %s", quota.getMessage())
                    .isEqualTo("True");
                assertThat(quota.getReason()).isEqualTo("WithinQuota");

                assertThat(events(env, ns, "OrphanSegmentRemoved"))
                    .as("OrphanSegmentRemoved Events")
                    .singleElement()
                    .satisfies(
                        e -> {
                          assertThat(e.getInvolvedObject().getKind()).isEqualTo("Pod");
                          assertThat(e.getInvolvedObject().getName())
                              .isEqualTo(s.pod().getMetadata().getName());
                          assertThat(e.getInvolvedObject().getUid())
                              .isEqualTo(s.pod().getMetadata().getUid());
                          assertThat(e.getMessage())
                              .contains("shmid=" + s.orphan() + " ")
                              .contains("on node " + s.node());
                          assertThat(e.getSource().getComponent()).isEqualTo("sharedipc-agent");
                        });
              });
    } catch (Exception | AssertionError e) {
      printAgentLog();
      throw e;
    }
  }

  @Test
  void orphanIsKeptUnderReportAndShownAsAnOrphanOverQuota(E2EEnvironment env, TestNamespace ns)
      throws Exception {
    Groups groups = new Groups(env.admin(), ns.name());
    // maxSegments 1: the instance's two segments put it over quota, so WithinQuota goes False.
    Setup s = setUp(env, ns, groups, "Report", 1);
    try {
      await("the orphan kept and reported (agent log " + agent.log() + ")")
          .atMost(AGENT_CONVERGE)
          .pollInterval(Groups.POLL)
          .untilAsserted(
              () -> {
                assertThat(agent.isAlive()).as("agent alive").isTrue();
                SharedIpcNodeStatus node = nodeStatus(env, s.node());
                assertThat(node.getTopOrphans())
                    .as("SharedIpcNode %s topOrphans", s.node())
                    .anySatisfy(
                        o -> {
                          assertThat(o.shmid).isEqualTo((long) s.orphan());
                          assertThat(o.verdict).isEqualTo("Orphaned");
                          assertThat(o.action).isEqualTo("Kept");
                          assertThat(o.reason)
                              .contains("kept by policy Report")
                              .contains("group " + ns.name() + "/" + GROUP);
                        });

                SharedIpcGroup group = groups.get(GROUP);
                assertThat(group.getStatus().getUsage()).as("status.usage").isNotNull();
                assertThat(group.getStatus().getUsage().getSegments())
                    .as("status.usage.segments")
                    .isEqualTo(2L);
                assertThat(group.getStatus().getUsage().getBytes())
                    .as("status.usage.bytes")
                    .isEqualTo(HELD_BYTES + ORPHAN_BYTES);
                assertThat(group.getStatus().getUsage().getOrphansRemoved())
                    .as("status.usage.orphansRemoved")
                    .isIn(null, 0L);
                InstanceStatus instance = instance0(group);
                assertThat(instance.getSegments()).as("status.instances[0].segments").isNotNull();
                assertThat(instance.getSegments().getCount())
                    .as("status.instances[0].segments.count")
                    .isEqualTo(2L);
                assertThat(instance.getSegments().getOrphans())
                    .as("status.instances[0].segments.orphans")
                    .isEqualTo(1L);
                Condition quota = Groups.condition(group, "WithinQuota");
                assertThat(quota.getStatus())
                    .as("WithinQuota: %s", quota.getMessage())
                    .isEqualTo("False");
                assertThat(quota.getReason()).isEqualTo("QuotaExceeded");
                assertThat(quota.getMessage())
                    .contains("instance 0 holds 2 segments (maxSegments 1)");
              });

      // Judged an orphan and kept: it stays kept over further passes (interval 2s, grace 1s long
      // past).
      long judged = agent.passes();
      assertThat(judged).as("the agent's passes so far (its /metrics)").isNotNegative();
      await("two more passes of the agent")
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Groups.POLL)
          .until(() -> agent.passes() >= judged + 2);
      assertThat(ipc.shmids(s.ns()))
          .as("segments in the pod's IPC namespace")
          .containsExactlyInAnyOrder(s.held(), s.orphan());
      assertThat(events(env, ns, "OrphanSegmentRemoved"))
          .as("OrphanSegmentRemoved Events")
          .isEmpty();
      assertThat(events(env, ns, "OrphanSegmentWouldBeRemoved"))
          .as("OrphanSegmentWouldBeRemoved Events")
          .isEmpty();
      assertThat(nodeStatus(env, s.node()).getOrphansRemovedByGroup())
          .doesNotContainKey(ns.name() + "/" + GROUP);
      assertThat(nodeStatus(env, s.node()).getOrphansRemovedByGroupUid())
          .doesNotContainKey(groups.get(GROUP).getMetadata().getUid());
    } catch (Exception | AssertionError e) {
      printAgentLog();
      throw e;
    }
  }

  /**
   * Governance holds where data is deleted: the group says Delete, but a SharedIpcPolicy governing
   * its namespace allows at most Report. The operator publishes the effective policy (Report,
   * capped by the policy) and the agent obeys only that, so the orphan survives pass after pass.
   */
  @Test
  void orphanIsKeptWhenAPolicyCapsDeleteAtReport(E2EEnvironment env, TestNamespace ns)
      throws Exception {
    String policyName = "cap-" + ns.name();
    SharedIpcPolicy cap = new SharedIpcPolicy();
    cap.getMetadata().setName(policyName);
    SharedIpcPolicySpec spec = new SharedIpcPolicySpec();
    spec.setNamespaceSelector(
        new LabelSelectorBuilder()
            .addToMatchLabels("kubernetes.io/metadata.name", ns.name())
            .build());
    spec.setStrongestOrphanPolicy(OrphanPolicy.Report);
    cap.setSpec(spec);
    env.admin().resources(SharedIpcPolicy.class).resource(cap).create();
    try {
      Groups groups = new Groups(env.admin(), ns.name());
      Setup s = setUp(env, ns, groups, "Delete", 256);
      await("the effective policy published as Report, capped by " + policyName)
          .atMost(AGENT_CONVERGE)
          .pollInterval(Groups.POLL)
          .untilAsserted(
              () -> {
                EffectiveOrphanPolicy effective =
                    groups.get(GROUP).getStatus().getEffectiveOrphanPolicy();
                assertThat(effective).as("status.effectiveOrphanPolicy").isNotNull();
                assertThat(effective.getPolicy())
                    .as("status.effectiveOrphanPolicy.policy (%s)", effective.getSource())
                    .isEqualTo(OrphanPolicy.Report);
              });
      await("the orphan judged and kept by the agent (agent log " + agent.log() + ")")
          .atMost(AGENT_CONVERGE)
          .pollInterval(Groups.POLL)
          .untilAsserted(
              () -> {
                assertThat(agent.isAlive()).as("agent alive").isTrue();
                assertThat(nodeStatus(env, s.node()).getTopOrphans())
                    .as("SharedIpcNode %s topOrphans", s.node())
                    .anySatisfy(
                        o -> {
                          assertThat(o.shmid).isEqualTo((long) s.orphan());
                          assertThat(o.action).isEqualTo("Kept");
                        });
              });
      long judged = agent.passes();
      assertThat(judged).as("the agent's passes so far (its /metrics)").isNotNegative();
      await("two more passes of the agent")
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Groups.POLL)
          .until(() -> agent.passes() >= judged + 2);
      assertThat(ipc.shmids(s.ns()))
          .as("segments in the pod's IPC namespace")
          .containsExactlyInAnyOrder(s.held(), s.orphan());
      assertThat(events(env, ns, "OrphanSegmentRemoved"))
          .as("OrphanSegmentRemoved Events")
          .isEmpty();
    } catch (Exception | AssertionError e) {
      printAgentLog();
      throw e;
    } finally {
      env.admin().resources(SharedIpcPolicy.class).withName(policyName).delete();
    }
  }

  /**
   * A one-instance SamePod group with the given orphan policy (grace 1s), Ready on a KWOK node and
   * not yet reported on (WithinQuota Unknown); a real IPC namespace mapped to its pod holding an
   * attached segment and an orphan; the agent of the pod's node started.
   */
  private Setup setUp(
      E2EEnvironment env, TestNamespace ns, Groups groups, String policy, int maxSegments)
      throws Exception {
    String yaml =
        """
        apiVersion: sharedipc.dev/v1alpha1
        kind: SharedIpcGroup
        metadata:
          name: %s
        spec:
          replicas: 1
          placement: SamePod
          sharedMemory: {size: 64Mi, mountPath: /dev/shm, accountTo: writer}
          segments: {orphanPolicy: %s, orphanGracePeriod: 1s, maxSegments: %d}
          members:
            - name: writer
              template:
                spec:
                  containers:
                    - name: writer
                      image: busybox:1.36
                      command: [sh, -c, "sleep infinity"]
                      resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {memory: 32Mi}}
        """
            .formatted(GROUP, policy, maxSegments);
    SharedIpcGroup group =
        groups.api().load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).item();
    group.getMetadata().setNamespace(ns.name());
    groups.api().inNamespace(ns.name()).resource(group).create();
    groups.awaitReady(GROUP, 1);

    Pod pod = groups.pods(GROUP).get(GROUP + "-0");
    String node = pod.getSpec().getNodeName();
    Condition before = Groups.condition(groups.get(GROUP), "WithinQuota");
    assertThat(before.getStatus())
        .as("WithinQuota before any agent report: %s", before.getMessage())
        .isEqualTo("Unknown");
    assertThat(before.getReason()).isEqualTo("NoAgentReport");
    assertThat(groups.get(GROUP).getStatus().getUsage())
        .as("status.usage before any agent report")
        .isNull();

    ipc = new RealIpc(env.repo());
    RealIpc.Ns real = ipc.newNamespace();
    Path proc = tmp.resolve("proc");
    RealIpc.fixtureProcess(proc, real, pod.getMetadata().getUid());
    int held = ipc.attached(real, 0x5e1c0001, HELD_BYTES);
    int orphan = ipc.orphan(real, 0x5e1c0002, ORPHAN_BYTES);
    assertThat(ipc.shmids(real)).containsExactlyInAnyOrder(held, orphan);
    System.err.printf(
        "[e2e] pod %s/%s (uid %s) on %s; IPC namespace of pid %d (inode %d) holds attached shmid %d and orphan shmid %d%n",
        ns.name(),
        pod.getMetadata().getName(),
        pod.getMetadata().getUid(),
        node,
        real.pid(),
        RealIpc.inode(Path.of(real.nsFile())),
        held,
        orphan);

    this.env = env;
    this.reportedNode = node;
    agent = NodeAgent.start(env, node, proc, tmp.resolve("agent"), ns.name());
    return new Setup(pod, node, real, held, orphan);
  }

  private static SharedIpcNodeStatus nodeStatus(E2EEnvironment env, String node) {
    SharedIpcNode report = env.admin().resources(SharedIpcNode.class).withName(node).get();
    assertThat(report).as("SharedIpcNode %s", node).isNotNull();
    assertThat(report.getStatus()).as("SharedIpcNode %s status", node).isNotNull();
    assertThat(report.getStatus().getLastScanTime())
        .as("SharedIpcNode %s status.lastScanTime", node)
        .isNotNull();
    return report.getStatus();
  }

  private static InstanceStatus instance0(SharedIpcGroup group) {
    return group.getStatus().getInstances().stream()
        .filter(i -> Integer.valueOf(0).equals(i.getIndex()))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no status.instances[index=0]"));
  }

  private static List<Event> events(E2EEnvironment env, TestNamespace ns, String reason) {
    return env.admin().v1().events().inNamespace(ns.name()).list().getItems().stream()
        .filter(e -> reason.equals(e.getReason()))
        .toList();
  }

  /**
   * The failure, with the agent's last log lines (the harness's dump has the operator's, not the
   * agent's).
   */
  private void printAgentLog() {
    if (agent != null) {
      System.err.println(
          "[e2e] last lines of the agent's log " + agent.log() + ":\n" + agent.logTail(60));
    }
  }
}
