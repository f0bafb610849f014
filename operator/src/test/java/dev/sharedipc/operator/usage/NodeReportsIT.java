package dev.sharedipc.operator.usage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.api.Labels;
import dev.sharedipc.api.v1alpha1.Placement;
import dev.sharedipc.api.v1alpha1.SegmentsSpec;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcGroupStatus;
import dev.sharedipc.api.v1alpha1.SharedIpcNode;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicy;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicySpec;
import dev.sharedipc.operator.Fixtures;
import dev.sharedipc.operator.GroupsInNamespace;
import dev.sharedipc.operator.OperatorFixture;
import dev.sharedipc.operator.RunningOperator;
import dev.sharedipc.operator.render.GroupRenderer;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Group usage from hand-written SharedIpcNode reports, written as an agent writes them (the status
 * subresource of its node's object), on the real API server with the real operator: only reports of
 * existing Nodes, renewed within the maximum report age, count.
 */
class NodeReportsIT extends OperatorFixture {
  NodeReportsIT() {
    super("reports");
  }

  @AfterEach
  void removeReportsAndPolicy() {
    for (String node : nodes) {
      client.resources(SharedIpcNode.class).withName(node).delete();
    }
    client.resources(SharedIpcPolicy.class).withName("hostipc-" + ns).delete();
  }

  @Test
  void aReportNotRenewedStopsCountingAndStatusSaysWhy() {
    String node = readyNode("a");
    groups.create(quotaOfOne(Fixtures.forCluster("aging", 1, "64Mi")));
    report(node, Instant.now(), entry("aging", 0, 2));
    SharedIpcGroup counted =
        groups.awaitCondition("aging", "WithinQuota", "False", "QuotaExceeded");
    assertThat(counted.getStatus().getUsage().getSegments()).isEqualTo(2);

    Instant old = Instant.now().minus(NodeUsage.DEFAULT_MAX_REPORT_AGE).minusSeconds(60);
    report(node, old, entry("aging", 0, 2));
    SharedIpcGroup stale = groups.awaitCondition("aging", "WithinQuota", "Unknown", "ReportStale");
    assertThat(GroupsInNamespace.condition(stale, "WithinQuota").getMessage())
        .contains("the report of node " + node + " is ignored")
        .contains("check the sharedipc agent on node " + node);
    assertThat(stale.getStatus().getUsage()).isNull();
    assertThat(stale.getStatus().getInstances().get(0).getSegments()).isNull();

    // the agent comes back
    report(node, Instant.now(), entry("aging", 0, 1));
    groups.awaitCondition("aging", "WithinQuota", "True", "WithinQuota");
  }

  @Test
  void aReportOfADeletedNodeStopsCounting() {
    String node = readyNode("doomed");
    groups.create(quotaOfOne(Fixtures.forCluster("orphaned", 1, "64Mi")));
    report(node, Instant.now(), entry("orphaned", 0, 3));
    groups.awaitCondition("orphaned", "WithinQuota", "False", "QuotaExceeded");

    // No garbage collector runs here: the report outlives its Node, as it would until the
    // collector comes round (or forever, where the agent set no ownerReference).
    client.nodes().withName(node).delete();
    SharedIpcGroup gone = groups.awaitCondition("orphaned", "WithinQuota", "Unknown", "NodeGone");
    assertThat(GroupsInNamespace.condition(gone, "WithinQuota").getMessage())
        .isEqualTo(
            "the report of node "
                + node
                + " is ignored: node "
                + node
                + " no longer exists;"
                + " instances with no other report are not judged");
    assertThat(gone.getStatus().getUsage()).isNull();
  }

  @Test
  void aGroupThatLeavesAReportLosesThatUsage() {
    String node = readyNode("a");
    groups.create(Fixtures.forCluster("left", 1, "64Mi"));
    report(node, Instant.now(), entry("left", 0, 2));
    await()
        .atMost(WAIT)
        .until(
            () ->
                groups.get("left").getStatus().getUsage() != null
                    && groups.get("left").getStatus().getUsage().getSegments() == 2);

    // the next report no longer mentions the group: only the old version of the report names it
    report(node, Instant.now(), entry("someone-else", 0, 1));
    await()
        .atMost(WAIT)
        .untilAsserted(() -> assertThat(groups.get("left").getStatus().getUsage()).isNull());
  }

  @Test
  void aReportUpdateReconcilesOnlyTheGroupsItNamesAndEachReadsOnlyItsOwnReports() {
    String node = readyNode("a");
    for (int i = 0; i < 10; i++) {
      report(readyNode("other-" + i), Instant.now(), entry("elsewhere-" + i, 0, 1));
    }
    groups.create(Fixtures.forCluster("named", 1, "64Mi"));
    groups.create(Fixtures.forCluster("bystander", 1, "64Mi"));
    report(node, Instant.now(), entry("named", 0, 2));
    await()
        .atMost(WAIT)
        .until(() -> usage("named") == 2 && groups.get("bystander").getStatus() != null);
    // A new group is reconciled more than once (its own status write comes back as an event):
    // count from when it has gone quiet, so that only what the report update wakes is counted.
    int[] seen = {-1};
    await()
        .atMost(WAIT)
        .pollInterval(java.time.Duration.ofMillis(500))
        .until(
            () -> {
              int now = RunningOperator.reconciles().of(ns, "bystander").size();
              boolean quiet = now == seen[0];
              seen[0] = now;
              return quiet;
            });
    int bystanderBefore = seen[0];
    int namedBefore = RunningOperator.reconciles().of(ns, "named").size();

    report(node, Instant.now(), entry("named", 0, 3));
    await().atMost(WAIT).until(() -> usage("named") == 3);

    // The update woke the group it names, which read the one report that can count for it (not
    // all 11 reports): the other group was not reconciled at all.
    List<Integer> named = RunningOperator.reconciles().of(ns, "named");
    assertThat(named.subList(namedBefore, named.size())).isNotEmpty().containsOnly(1);
    assertThat(RunningOperator.reconciles().of(ns, "bystander")).hasSize(bystanderBefore);
  }

  /**
   * An agent's first report is two writes: its object, then its status subresource. A group counts
   * the report of every node its pods are bound to, whether or not the report names it (a complete
   * report that lists nothing of the group says it holds nothing there), so the status write must
   * wake the groups with pods on that node, even when a reconcile in between read the report
   * without status.
   */
  @Test
  void aReportCreatedThenWrittenWakesTheGroupsWithPodsOnItsNode() {
    String node = readyNode("first");
    groups.create(Fixtures.forCluster("early", 1, "64Mi"));
    await().atMost(WAIT).until(() -> pods("early").size() == 1);
    Pod pod = pods("early").get(0);
    kubelet.run(pod, node, true);
    groups.awaitCondition("early", "Ready", "True", "AllInstancesReady");
    groups.awaitCondition("early", "WithinQuota", "Unknown", "NoAgentReport");

    SharedIpcNode created = new SharedIpcNode();
    created.getMetadata().setName(node);
    client.resource(created).create();
    // A reconcile in between, which reads the report before its status is written.
    int before = RunningOperator.reconciles().of(ns, "early").size();
    client
        .pods()
        .inNamespace(ns)
        .withName(pod.getMetadata().getName())
        .edit(
            p -> {
              p.getMetadata().getAnnotations().put("sharedipc-test/touched", "1");
              return p;
            });
    await().atMost(WAIT).until(() -> RunningOperator.reconciles().of(ns, "early").size() > before);

    // The status: a complete scan of the node that found nothing of the group's.
    SharedIpcNodeStatus.NamespaceReport host = entry(null, null, 4);
    host.host = true;
    report(node, Instant.now(), host);
    SharedIpcGroup judged = groups.awaitCondition("early", "WithinQuota", "True", "WithinQuota");
    assertThat(judged.getStatus().getInstances().get(0).getSegments().getCount()).isZero();
  }

  @Test
  void aReportRewrittenWithNothingNewForTheGroupWritesNoGroupStatus() throws Exception {
    // As in a cluster: two instances running on two nodes, each node's agent reporting its pod.
    List<String> both = List.of(readyNode("a"), readyNode("b"));
    groups.create(Fixtures.forCluster("quiet", 2, "64Mi"));
    await().atMost(WAIT).until(() -> pods("quiet").size() == 2);
    Map<String, Pod> podOfNode = new HashMap<>();
    for (Pod pod : pods("quiet")) {
      String node = both.get(pod.getMetadata().getName().endsWith("-0") ? 0 : 1);
      kubelet.run(pod, node, true);
      podOfNode.put(node, pod);
    }
    Instant scan = Instant.now().minusSeconds(300);
    both.forEach(node -> report(node, scan, entryOf(podOfNode.get(node), 2)));
    groups.awaitCondition("quiet", "Ready", "True", "AllInstancesReady");
    await().atMost(WAIT).until(() -> usage("quiet") == 4);

    List<SharedIpcGroupStatus> written = new CopyOnWriteArrayList<>();
    try (Watch watch =
        client
            .resources(SharedIpcGroup.class)
            .inNamespace(ns)
            .withName("quiet")
            .watch(
                new Watcher<>() {
                  @Override
                  public void eventReceived(Action action, SharedIpcGroup group) {
                    if (action == Action.MODIFIED) {
                      written.add(group.getStatus());
                    }
                  }

                  @Override
                  public void onClose(WatcherException cause) {}
                })) {
      // Three scans that find the same: each agent rewrites its report with a later lastScanTime;
      // the group is woken each time.
      for (int rewrite = 1; rewrite <= 3; rewrite++) {
        for (String node : both) {
          int reconciled = RunningOperator.reconciles().of(ns, "quiet").size();
          report(node, scan.plusSeconds(30L * rewrite), entryOf(podOfNode.get(node), 2));
          await()
              .atMost(WAIT)
              .until(() -> RunningOperator.reconciles().of(ns, "quiet").size() > reconciled);
        }
      }
      // A material change last: its status write follows any the rewrites caused (one group is
      // reconciled at a time, a watch delivers its object's versions in order).
      report(both.get(0), scan.plusSeconds(120), entryOf(podOfNode.get(both.get(0)), 3));
      await()
          .atMost(WAIT)
          .until(
              () ->
                  !written.isEmpty()
                      && written.get(written.size() - 1).getUsage() != null
                      && written.get(written.size() - 1).getUsage().getSegments() == 5);
    }
    assertThat(written.subList(0, written.size() - 1))
        .as("group status writes caused by reports that changed only their lastScanTime")
        .isEmpty();
  }

  /** The entry an agent writes for a pod's own IPC namespace, as its attribution finds it. */
  private SharedIpcNodeStatus.NamespaceReport entryOf(Pod pod, long segments) {
    SharedIpcNodeStatus.NamespaceReport r =
        entry(
            pod.getMetadata().getLabels().get(Labels.GROUP),
            Integer.valueOf(pod.getMetadata().getLabels().get(Labels.INSTANCE)),
            segments);
    r.podName = pod.getMetadata().getName();
    r.podUid = pod.getMetadata().getUid();
    return r;
  }

  private long usage(String group) {
    SharedIpcGroup g = groups.get(group);
    return g == null || g.getStatus() == null || g.getStatus().getUsage() == null
        ? -1
        : g.getStatus().getUsage().getSegments();
  }

  @Test
  void instancesBeyondReplicasAreNotJudged() {
    String node = readyNode("a");
    groups.create(quotaOfOne(Fixtures.forCluster("shrunk", 1, "64Mi")));
    report(node, Instant.now(), entry("shrunk", 0, 1), entry("shrunk", 1, 5));
    SharedIpcGroup judged = groups.awaitCondition("shrunk", "WithinQuota", "True", "WithinQuota");
    assertThat(judged.getStatus().getUsage().getSegments()).isEqualTo(1);
  }

  @Test
  void semaphoreSetsAndQueuesReachStatusAndAreJudgedAgainstTheirQuotas() {
    String node = readyNode("a");
    SharedIpcGroup group = Fixtures.forCluster("sems", 1, "64Mi");
    group.getSpec().setSegments(new SegmentsSpec());
    group.getSpec().getSegments().setMaxSemaphoreSets(2);
    group.getSpec().getSegments().setMaxMessageQueues(4);
    groups.create(group);
    SharedIpcNodeStatus.NamespaceReport within = entry("sems", 0, 0);
    within.semaphoreSets = 2L;
    within.semaphores = 6L;
    within.messageQueues = 1L;
    within.queuedBytes = 64L;
    within.posixMessageQueuesUnknown = true;
    report(node, Instant.now(), within);
    SharedIpcGroup ok = groups.awaitCondition("sems", "WithinQuota", "True", "WithinQuota");
    // the API server keeps the new fields (the CRDs carry them: nothing is pruned)
    assertThat(ok.getSpec().getSegments().getMaxSemaphoreSets()).isEqualTo(2);
    assertThat(ok.getStatus().getInstances().get(0).getIpcObjects())
        .isEqualTo(new dev.sharedipc.api.v1alpha1.IpcObjectUsage(2, 6, 1, 64, 0, 0));
    assertThat(ok.getStatus().getUsage().getIpcObjects().getSemaphores()).isEqualTo(6);
    assertThat(
            client
                .resources(SharedIpcNode.class)
                .withName(node)
                .get()
                .getStatus()
                .getIpcNamespaces()
                .get(0)
                .posixMessageQueuesUnknown)
        .isTrue();

    SharedIpcNodeStatus.NamespaceReport leaking = entry("sems", 0, 0);
    leaking.semaphoreSets = 3L;
    leaking.semaphores = 3L;
    report(node, Instant.now(), leaking);
    SharedIpcGroup over = groups.awaitCondition("sems", "WithinQuota", "False", "QuotaExceeded");
    assertThat(GroupsInNamespace.condition(over, "WithinQuota").getMessage())
        .startsWith("instance 0 holds 3 semaphore sets (maxSemaphoreSets 2");
  }

  @Test
  void aHostIpcGroupGetsItsAttributedHostSegmentsAndAQuotaVerdict() {
    allowHostIpcInThisNamespace();
    String node = readyNode("host");
    SharedIpcGroup group = quotaOfOne(Fixtures.forCluster("hostpair", 1, "64Mi"));
    group.getSpec().setPlacement(Placement.SameNode);
    group.getSpec().setHostIPC(true);
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
    groups.create(group);
    await().atMost(WAIT).until(() -> pods("hostpair").size() == 2);
    for (Pod pod : pods("hostpair")) {
      assertThat(pod.getSpec().getHostIPC()).isTrue();
      kubelet.run(pod, GroupRenderer.pinnedNode(pod), true);
    }
    groups.awaitCondition("hostpair", "WithinQuota", "Unknown", "NoAgentReport");

    // The agent of the node reports its host namespace, with nothing attributed to the group: a
    // verdict (no segments), not Unknown.
    SharedIpcNodeStatus.NamespaceReport host = entry(null, null, 4);
    host.host = true;
    report(node, Instant.now(), host);
    SharedIpcGroup none = groups.awaitCondition("hostpair", "WithinQuota", "True", "WithinQuota");
    assertThat(none.getStatus().getInstances().get(0).getSegments().getCount()).isZero();

    // Two host segments its ledger attributes to the writer pod: they are the instance's.
    Pod writer = client.pods().inNamespace(ns).withName("hostpair-0-writer").get();
    SharedIpcNodeStatus.NamespaceReport attributed = entry("hostpair", 0, 2);
    attributed.host = true;
    attributed.podUid = writer.getMetadata().getUid();
    attributed.podName = writer.getMetadata().getName();
    report(node, Instant.now(), host, attributed);
    SharedIpcGroup over =
        groups.awaitCondition("hostpair", "WithinQuota", "False", "QuotaExceeded");
    assertThat(over.getStatus().getInstances().get(0).getSegments().getCount()).isEqualTo(2);
    assertThat(over.getStatus().getUsage().getBytes()).isEqualTo(2 * 1024 * 1024);
  }

  /**
   * A group deleted and created again under the same name is another group (another UID): what the
   * agent still reports of the first one (a host segment its ledger attributes to a pod that is
   * gone, that pod's memory volume, the orphans it removed for it) must not be charged to the
   * second.
   */
  @Test
  void aGroupCreatedAgainUnderTheSameNameIsNotChargedItsPredecessorsLeftovers() {
    String node = readyNode("a");
    String first = groups.create(Fixtures.forCluster("again", 1, "64Mi")).getMetadata().getUid();
    await().atMost(WAIT).until(() -> pods("again").size() == 1);
    String firstPod = pods("again").get(0).getMetadata().getUid();
    report(node, leftoversOf("again", first, firstPod));
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              var usage = groups.get("again").getStatus().getUsage();
              assertThat(usage).isNotNull();
              assertThat(usage.getSegments()).isEqualTo(2);
              assertThat(usage.getSharedMemoryUsedBytes()).isEqualTo(8L << 20);
              assertThat(usage.getOrphansRemoved()).isEqualTo(3);
            });

    client.resources(SharedIpcGroup.class).inNamespace(ns).withName("again").delete();
    // as the garbage collector would (none runs here): the first group's pods go with it
    client.pods().inNamespace(ns).withLabel(Labels.GROUP, "again").withGracePeriod(0).delete();
    await().atMost(WAIT).until(() -> groups.get("again") == null && pods("again").isEmpty());
    String second = groups.create(Fixtures.forCluster("again", 1, "64Mi")).getMetadata().getUid();
    assertThat(second).isNotEqualTo(first);

    // The agent's next report: the leftovers still there, and one segment of the new group.
    SharedIpcNodeStatus next = leftoversOf("again", first, firstPod);
    SharedIpcNodeStatus.NamespaceReport own = entry("again", 0, 1);
    own.groupUid = second;
    next.setIpcNamespaces(List.of(next.getIpcNamespaces().get(0), own));
    report(node, next);
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              var usage = groups.get("again").getStatus().getUsage();
              assertThat(usage).isNotNull();
              assertThat(usage.getSegments()).isEqualTo(1);
              assertThat(usage.getSharedMemoryUsedBytes()).isZero();
              assertThat(usage.getOrphansRemoved()).isZero();
            });
  }

  /**
   * What an agent reports of a group's pod that is gone: a host segment (two, by its ledger), the
   * pod's memory emptyDir, and three orphans removed, each naming the group by name and UID.
   */
  private SharedIpcNodeStatus leftoversOf(String group, String groupUid, String podUid) {
    SharedIpcNodeStatus.NamespaceReport segments = entry(group, 0, 2);
    segments.host = true;
    segments.podUid = podUid;
    segments.groupUid = groupUid;
    SharedIpcNodeStatus.VolumeReport volume = new SharedIpcNodeStatus.VolumeReport();
    volume.kind = "EmptyDir";
    volume.name = "shm";
    volume.path = "/var/lib/kubelet/pods/" + podUid + "/volumes/kubernetes.io~empty-dir/shm";
    volume.podUid = podUid;
    volume.podNamespace = ns;
    volume.group = group;
    volume.groupUid = groupUid;
    volume.instance = 0;
    volume.sizeBytes = 64L << 20;
    volume.usedBytes = 8L << 20;
    SharedIpcNodeStatus status = new SharedIpcNodeStatus();
    status.setIpcNamespaces(List.of(segments));
    status.setMemoryVolumes(List.of(volume));
    status.setOrphansRemovedByGroup(Map.of(ns + "/" + group, 3L));
    status.setOrphansRemovedByGroupUid(Map.of(groupUid, 3L));
    return status;
  }

  // ---- helpers ----

  private static SharedIpcGroup quotaOfOne(SharedIpcGroup group) {
    group.getSpec().setSegments(new SegmentsSpec());
    group.getSpec().getSegments().setMaxSegments(1);
    return group;
  }

  private SharedIpcNodeStatus.NamespaceReport entry(String group, Integer instance, long segments) {
    SharedIpcNodeStatus.NamespaceReport r = new SharedIpcNodeStatus.NamespaceReport();
    r.inode = 4026532000L + segments;
    r.podNamespace = group == null ? null : ns;
    r.podName = group == null ? null : group + "-" + instance;
    r.group = group;
    r.instance = instance;
    r.segments = segments;
    r.bytes = segments * 1024 * 1024;
    r.rssBytes = 0L;
    r.orphans = 0L;
    return r;
  }

  /** Writes the node's report as its agent does: the object once, then its status subresource. */
  private void report(
      String node, Instant lastScan, SharedIpcNodeStatus.NamespaceReport... namespaces) {
    SharedIpcNodeStatus status = new SharedIpcNodeStatus();
    status.setIpcNamespaces(List.of(namespaces));
    report(node, lastScan, status);
  }

  /** Writes the node's report, scanned now. */
  private void report(String node, SharedIpcNodeStatus status) {
    report(node, Instant.now(), status);
  }

  private void report(String node, Instant lastScan, SharedIpcNodeStatus status) {
    if (client.resources(SharedIpcNode.class).withName(node).get() == null) {
      SharedIpcNode fresh = new SharedIpcNode();
      fresh.getMetadata().setName(node);
      client.resource(fresh).create();
    }
    SharedIpcNode stored = client.resources(SharedIpcNode.class).withName(node).get();
    status.setLastScanTime(lastScan.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
    stored.setStatus(status);
    client.resource(stored).updateStatus();
  }

  private void allowHostIpcInThisNamespace() {
    client
        .namespaces()
        .withName(ns)
        .edit(
            n -> {
              // The second label satisfies deploy/'s ValidatingAdmissionPolicy, if another test
              // installed it.
              n.getMetadata()
                  .setLabels(Map.of("sharedipc-test", ns, "sharedipc.dev/host-ipc", "allowed"));
              return n;
            });
    SharedIpcPolicy policy = new SharedIpcPolicy();
    policy.getMetadata().setName("hostipc-" + ns);
    SharedIpcPolicySpec rules = new SharedIpcPolicySpec();
    rules.setNamespaceSelector(
        new LabelSelectorBuilder().addToMatchLabels("sharedipc-test", ns).build());
    rules.setAllowHostIPC(true);
    policy.setSpec(rules);
    client.resource(policy).create();
  }

  private List<Pod> pods(String group) {
    return client.pods().inNamespace(ns).withLabel(Labels.GROUP, group).list().getItems().stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .toList();
  }
}
