package dev.sharedipc.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcNode;
import dev.sharedipc.e2e.harness.E2EEnvironment;
import dev.sharedipc.e2e.harness.E2EExtension;
import dev.sharedipc.e2e.harness.TestNamespace;
import io.fabric8.kubernetes.api.model.Pod;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every query of the Grafana dashboard (docs/dashboards/sharedipc.json, parsed: no second list
 * here) runs against a real Prometheus that scrapes a running agent and the running operator, and
 * returns data; that Prometheus also loads the alerting rules of
 * deploy/monitoring/prometheus-rule.yaml, which must all evaluate without error, and every series
 * selector of every alert must match scraped series (the alerts' promtool tests feed hand-written
 * series, so they cannot see a misspelt metric).
 *
 * <p>The scenario makes what the panels show, on the local control plane with real IPC namespaces:
 * a Delete group whose pod's namespace holds an attached segment, an orphan (removed by the agent),
 * a semaphore set and a message queue; a Report group on the same node whose orphan segment is
 * kept, and whose memory emptyDir (a real tmpfs mounted under the agent's kubelet root) holds a
 * POSIX object no process maps, kept by policy; and a file in the agent's host /dev/shm (a
 * directory of the test on the real /dev/shm, so that the host's own files stay out of the test).
 * The queries whose data needs a situation this test does not make are named in {@link #NOT_MADE}
 * with the reason ({@link #NOT_MADE_ALERT_SELECTORS} for the alerts); they must still run without
 * error. Needs root and the {@code prometheus} binary: skipped otherwise, failed under CI=true.
 */
@ExtendWith(E2EExtension.class)
@Order(1) // with the scenarios that leave the operator and API server alone
class DashboardQueriesE2E {
  /**
   * Queries (by where: panel title and refId) whose series only exist in situations this test does
   * not make, with why. Every other query must return at least one series.
   */
  static final Map<String, String> NOT_MADE =
      Map.of(
          "panel \"SameNode shared directories\" A",
          "needs a SameNode group whose instance is gone while its shared directory stays (SharedDirReaperIT makes one)",
          "panel \"SameNode shared directories\" B",
          "needs a SameNode shared directory removed after its instance was gone (SharedDirReaperIT makes one)",
          "panel \"Operator reconciliations\" B",
          "needs a reconciliation that throws; the operator's errors are counted only then");

  /**
   * Selectors of alert expressions whose series this test does not make (or does not scrape), with
   * why.
   */
  static final Map<String, String> NOT_MADE_ALERT_SELECTORS =
      Map.of(
          "sharedipc_reaper_decisions_total{action=\"Failed\"}",
          "needs a removal that fails",
          "sharedipc_shared_directory_decisions_total{action=\"Failed\"}",
          "needs a shared-directory removal that fails",
          "sharedipc_operator_reconcile_errors_total",
          "needs a reconciliation that throws",
          "kube_node_info",
          "comes from kube-state-metrics, which this test does not run",
          "sharedipc_group_condition{type=\"WithinQuota\", status=\"False\"}",
          "comes from kube-state-metrics' custom-resource config (kube-state-metrics-sharedipc.yaml), not run here",
          "sharedipc_group_condition{type=\"Ready\", status=\"False\"}",
          "comes from kube-state-metrics' custom-resource config (kube-state-metrics-sharedipc.yaml), not run here");

  private static final Duration CONVERGE = Duration.ofSeconds(90);

  @TempDir Path tmp;
  private RealIpc ipc;
  private NodeAgent agent;
  private Prometheus prometheus;
  private String reportedNode;
  private E2EEnvironment env;
  private Path mounted;

  @BeforeAll
  static void needsRoot() {
    RealIpc.requireRootAndTools();
  }

  @AfterEach
  void stopEverythingStarted() throws Exception {
    if (prometheus != null) {
      prometheus.close();
    }
    if (agent != null) {
      agent.close();
    }
    if (ipc != null) {
      ipc.close();
    }
    if (mounted != null) {
      run("umount", mounted.toString());
    }
    if (reportedNode != null) {
      env.admin().resources(SharedIpcNode.class).withName(reportedNode).delete();
    }
  }

  @Test
  void everyPanelQueryAndAlertSelectorFindsTheScrapedAgentAndOperator(
      E2EEnvironment env, TestNamespace ns) throws Exception {
    this.env = env;
    List<Dashboard.Query> queries =
        Dashboard.read(env.repo().resolve("docs/dashboards/sharedipc.json")).queries("30s");
    assertThat(queries).as("queries of docs/dashboards/sharedipc.json").hasSizeGreaterThan(20);
    assertThat(queries.stream().map(Dashboard.Query::where))
        .as("where the queries named in NOT_MADE are")
        .containsAll(NOT_MADE.keySet());
    AlertRules rules =
        AlertRules.read(env.repo().resolve("deploy/monitoring/prometheus-rule.yaml"));
    assertThat(rules.alerts())
        .as("alerts of deploy/monitoring/prometheus-rule.yaml")
        .hasSizeGreaterThan(10);
    assertThat(rules.alerts().stream().flatMap(a -> AlertRules.selectors(a.expr()).stream()))
        .as("selectors of the alerts, among them those of NOT_MADE_ALERT_SELECTORS")
        .containsAll(NOT_MADE_ALERT_SELECTORS.keySet());

    Groups groups = new Groups(env.admin(), ns.name());
    createGroup(groups, ns, "feed", "Delete", null);
    groups.awaitReady("feed", 1);
    Pod feed = groups.pods("feed").get("feed-0");
    String node = feed.getSpec().getNodeName();
    createGroup(groups, ns, "keep", "Report", node);
    // (Groups.awaitReady wants the namespace to hold one group's pods only.)
    await("keep Ready with 1 instance on " + node)
        .atMost(Groups.CONVERGE)
        .pollInterval(Groups.POLL)
        .untilAsserted(
            () -> {
              assertThat(groups.get("keep").getStatus()).as("status of keep").isNotNull();
              assertThat(groups.get("keep").getStatus().getReadyInstances())
                  .as("keep status.readyInstances")
                  .isEqualTo(1);
              assertThat(groups.pods("keep")).as("pods of keep").containsKey("keep-0");
            });
    Pod keep = groups.pods("keep").get("keep-0");
    assertThat(keep.getSpec().getNodeName()).as("node of keep-0 (nodeSelector)").isEqualTo(node);

    ipc = new RealIpc(env.repo());
    Path proc = tmp.resolve("proc");
    RealIpc.Ns feedNs = ipc.newNamespace();
    RealIpc.fixtureProcess(proc, feedNs, feed.getMetadata().getUid());
    ipc.attached(feedNs, 0x5e1d0001, 4096);
    int removed = ipc.orphan(feedNs, 0x5e1d0002, 128 * 1024);
    ipc.semaphoreSetAndMessageQueue(feedNs, 0x5e1d0003, 0x5e1d0004);
    RealIpc.Ns keepNs = ipc.newNamespace();
    RealIpc.fixtureProcess(proc, keepNs, keep.getMetadata().getUid());
    ipc.orphan(keepNs, 0x5e1d0005, 64 * 1024);
    Path agentDir = tmp.resolve("agent");
    Path emptyDir =
        Files.createDirectories(
            agentDir.resolve(
                "kubelet-root/pods/"
                    + keep.getMetadata().getUid()
                    + "/volumes/kubernetes.io~empty-dir/shm"));
    run("mount", "-t", "tmpfs", "-o", "size=1m", "sharedipc-e2e", emptyDir.toString());
    mounted = emptyDir;
    Files.write(emptyDir.resolve("e2e-posix-orphan"), new byte[32 * 1024]);
    // The host's /dev/shm as the agent sees it: a directory of the real tmpfs, holding a file
    // nobody maps.
    Path hostShm =
        Files.createDirectories(
            Path.of(
                "/dev/shm", "sharedipc-e2e-" + ProcessHandle.current().pid() + "-" + ns.name()));
    try {
      Files.write(hostShm.resolve("e2e-posix-orphan"), new byte[64 * 1024]);
      this.reportedNode = node;
      agent =
          NodeAgent.start(
              env,
              node,
              proc,
              agentDir,
              "dash-" + ns.name(),
              List.of("--host-shm", hostShm.toString()));
      prometheus =
          Prometheus.start(
              tmp.resolve("prometheus"),
              env.logDir().resolve("prometheus-" + ns.name() + ".log"),
              Map.of(
                  "sharedipc-agent-metrics",
                  agent.httpAddress(),
                  "sharedipc-operator-metrics",
                  env.operator().httpAddress()),
              rules);

      await("the agent removed the Delete group's orphan (agent log " + agent.log() + ")")
          .atMost(CONVERGE)
          .pollInterval(Groups.POLL)
          .untilAsserted(() -> assertThat(ipc.shmids(feedNs)).doesNotContain(removed));
      try {
        await(
                "every dashboard query and alert selector answered with data, but those of NOT_MADE*, and every rule healthy")
            .atMost(CONVERGE)
            .pollInterval(Duration.ofSeconds(1))
            .untilAsserted(
                () -> {
                  Map<String, String> failures = new LinkedHashMap<>();
                  for (Dashboard.Query q : queries) {
                    Prometheus.Result r = prometheus.query(q.promql());
                    if (r.error() != null) {
                      failures.put(q.where(), "`" + q.promql() + "` failed: " + r.error());
                    } else if (r.empty() && !NOT_MADE.containsKey(q.where())) {
                      failures.put(q.where(), "`" + q.promql() + "` returned no series");
                    }
                  }
                  for (AlertRules.Alert alert : rules.alerts()) {
                    for (String selector : AlertRules.selectors(alert.expr())) {
                      Prometheus.Result r = prometheus.query(selector);
                      if (r.error() != null
                          || (r.empty() && !NOT_MADE_ALERT_SELECTORS.containsKey(selector))) {
                        failures.put(
                            "alert " + alert.name() + " " + selector,
                            r.error() != null ? "failed: " + r.error() : "matches no series");
                      }
                    }
                  }
                  for (var rule : prometheus.rules()) {
                    if (!"ok".equals(rule.path("health").asText())) {
                      failures.put(
                          "rule " + rule.path("name").asText(),
                          "health "
                              + rule.path("health").asText()
                              + ": "
                              + rule.path("lastError").asText());
                    }
                  }
                  assertThat(failures)
                      .as(
                          "dashboard queries and alert selectors that failed or returned nothing, rules not healthy")
                      .isEmpty();
                });
      } catch (AssertionError | RuntimeException e) {
        System.err.println(
            "[e2e] agent log tail:\n"
                + agent.logTail(30)
                + "\n[e2e] prometheus log tail:\n"
                + String.join("\n", prometheus.logTail(20)));
        throw e;
      }
    } finally {
      try (var files = Files.list(hostShm)) {
        for (Path f : (Iterable<Path>) files::iterator) {
          Files.deleteIfExists(f);
        }
      }
      Files.deleteIfExists(hostShm);
    }
  }

  private static void run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("`" + String.join(" ", command) + "` failed: " + output);
    }
  }

  /** A one-instance SamePod group under {@code policy} (grace 1s), on {@code node} when given. */
  private static void createGroup(
      Groups groups, TestNamespace ns, String name, String policy, String node) {
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
          segments: {orphanPolicy: %s, orphanGracePeriod: 1s}
          members:
            - name: writer
              template:
                spec:
                  %s
                  containers:
                    - name: writer
                      image: busybox:1.36
                      command: [sh, -c, "sleep infinity"]
                      resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {memory: 32Mi}}
        """
            .formatted(
                name,
                policy,
                node == null ? "" : "nodeSelector: {kubernetes.io/hostname: " + node + "}");
    SharedIpcGroup group =
        groups.api().load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).item();
    group.getMetadata().setNamespace(ns.name());
    groups.api().inNamespace(ns.name()).resource(group).create();
  }
}
