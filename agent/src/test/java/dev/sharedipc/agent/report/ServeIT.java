package dev.sharedipc.agent.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.agent.attribution.Attribution;
import dev.sharedipc.agent.attribution.Ledger;
import dev.sharedipc.agent.kernel.LinuxKernel;
import dev.sharedipc.agent.reap.Action;
import dev.sharedipc.agent.reap.Decision;
import dev.sharedipc.agent.reap.Reaper;
import dev.sharedipc.agent.scan.NamespaceCollector;
import dev.sharedipc.agent.survey.Findings;
import dev.sharedipc.agent.survey.Survey;
import dev.sharedipc.agent.testing.ProcFixture;
import dev.sharedipc.agent.testing.RealNamespaces;
import dev.sharedipc.agent.testing.RealNamespaces.Ns;
import dev.sharedipc.agent.testing.TcpGate;
import dev.sharedipc.api.Labels;
import dev.sharedipc.api.testing.RealApiServer;
import dev.sharedipc.api.v1alpha1.EffectiveOrphanPolicy;
import dev.sharedipc.api.v1alpha1.OrphanPolicy;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcGroupStatus;
import dev.sharedipc.api.v1alpha1.SharedIpcNode;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The serving agent against a real API server and the real kernel: pods and groups in the API
 * server, the orphan policy published in each group's status as the operator would (no operator
 * runs here: the test writes status.effectiveOrphanPolicy through the status subresource), their
 * IPC namespaces real (a fixture proc root maps each to its pod's UID). One pass removes what the
 * published policy allows and only that, writes the SharedIpcNode status (owned by the Node), an
 * Event and metrics. With the API server away, refusing or silent, the agent keeps its schedule,
 * and once the server answers it reaps by the groups' policies.
 */
class ServeIT {
  @TempDir Path proc;
  RealNamespaces real;
  RealApiServer api;

  /** The agent's own client of the test's API server, as the agent would connect. */
  dev.sharedipc.agent.kube.KubeApi kube() {
    return dev.sharedipc.agent.testing.AgentClients.of(api);
  }

  String namespace;
  String nodeName;
  KubernetesClient client;
  ClusterView view;
  NodeReporter reporter;

  @BeforeEach
  void setUp() throws Exception {
    real = new RealNamespaces();
    api = RealApiServer.shared();
    namespace = api.newNamespace("agent");
    nodeName = "node-" + namespace;
    client = api.newClient();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (reporter != null) {
      reporter.close();
    }
    if (view != null) {
      view.close();
    }
    if (client != null) {
      client.close();
    }
    real.close();
  }

  Pod pod(String name, Map<String, String> labels) {
    return client
        .pods()
        .inNamespace(namespace)
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .withLabels(labels)
                .endMetadata()
                .withNewSpec()
                .withNodeName(nodeName)
                .addNewContainer()
                .withName("c")
                .withImage("busybox:1.36")
                .endContainer()
                .endSpec()
                .build())
        .create();
  }

  Daemon daemon(ClusterView cluster, NodeReporter reporter, Metrics metrics) {
    Survey.Config config =
        new Survey.Config(
            proc,
            LinuxKernel.PROC,
            NamespaceCollector.nsInode(Path.of("/proc/self/ns/ipc")),
            proc.resolve("none"),
            proc.resolve("none"));
    LinuxKernel kernel = new LinuxKernel();
    // the fixture lists no process of this machine's (the host's) namespace: its limits are read
    // through this file
    Survey survey =
        new Survey(config, kernel, cluster, Ledger.inMemory(), cluster, Clock.systemUTC())
            .hostNamespaceFile(Path.of("/proc/self/ns/ipc"));
    return new Daemon(
        survey,
        new Reaper(kernel, LinuxKernel.PROC, false, d -> {}),
        metrics,
        new NodeStatusBuilder("it"),
        reporter,
        Duration.ofSeconds(30));
  }

  /**
   * A group whose spec says {@code specPolicy}; {@code published} (may be null) is written to
   * status as the operator would.
   */
  SharedIpcGroup group(String name, OrphanPolicy specPolicy, EffectiveOrphanPolicy published) {
    SharedIpcGroup g =
        client
            .resources(SharedIpcGroup.class)
            .inNamespace(namespace)
            .load(
                new ByteArrayInputStream(
                    ("""
        apiVersion: sharedipc.dev/v1alpha1
        kind: SharedIpcGroup
        metadata: {name: %s}
        spec:
          sharedMemory: {size: 64Mi}
          segments: {orphanPolicy: %s, orphanGracePeriod: 0s}
          members:
            - name: writer
              template: {spec: {containers: [{name: writer, image: busybox:1.36}]}}
        """
                            .formatted(name, specPolicy))
                        .getBytes(StandardCharsets.UTF_8)))
            .create();
    if (published != null) {
      SharedIpcGroupStatus status = new SharedIpcGroupStatus();
      status.setEffectiveOrphanPolicy(published);
      g.setStatus(status);
      g = client.resource(g).updateStatus();
    }
    return g;
  }

  static EffectiveOrphanPolicy published(OrphanPolicy policy, String grace) {
    return new EffectiveOrphanPolicy(policy, grace, "published by the test");
  }

  /** Waits until the cluster view knows the pod and the policy its group publishes. */
  void awaitPolicyKnown(Pod pod, OrphanPolicy expected) {
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () ->
                view.byUid(pod.getMetadata().getUid()).isPresent()
                    && view.policyFor(
                                new Attribution(
                                    Attribution.Source.POD_NAMESPACE,
                                    pod.getMetadata().getUid(),
                                    view.byUid(pod.getMetadata().getUid()).get(),
                                    ""))
                            .orphanPolicy()
                        == expected);
  }

  @Test
  void onePassRemovesTheGroupsOrphanAndReportsItEverywhere() throws Exception {
    // the spec alone would not do: the agent obeys the policy the operator publishes
    group("feed", OrphanPolicy.Delete, published(OrphanPolicy.Delete, "0s"));
    Node node =
        client
            .nodes()
            .resource(new NodeBuilder().withNewMetadata().withName(nodeName).endMetadata().build())
            .create();
    Pod inGroup = pod("feed-0", Map.of(Labels.GROUP, "feed", Labels.INSTANCE, "0"));
    Pod loner = pod("loner", Map.of());
    Ns a = real.newNamespace();
    Ns b = real.newNamespace();
    new ProcFixture(proc)
        .realNamespace(
            (int) a.pid(), a.pid(), ProcFixture.podCgroup(inGroup.getMetadata().getUid()))
        .realNamespace((int) b.pid(), b.pid(), ProcFixture.podCgroup(loner.getMetadata().getUid()));
    int orphan = real.orphan(a, 0x6100, 256 << 10);
    RealNamespaces.Handle attached = real.attached(a, 0x6101, 4096);
    int lonerOrphan = real.orphan(b, 0x6100, 4096);
    // a semaphore set in the group's namespace: counted and reported, never removed (policy Delete,
    // grace 0s)
    Process ipcmk =
        new ProcessBuilder("nsenter", "--ipc=/proc/" + a.pid() + "/ns/ipc", "ipcmk", "-S", "2")
            .redirectErrorStream(true)
            .start();
    assertThat(ipcmk.waitFor(30, java.util.concurrent.TimeUnit.SECONDS) && ipcmk.exitValue() == 0)
        .as("ipcmk: %s", new String(ipcmk.getInputStream().readAllBytes()))
        .isTrue();

    view = new ClusterView(kube(), nodeName).start();
    reporter = new NodeReporter(kube(), nodeName, false, Duration.ofSeconds(10));
    awaitPolicyKnown(inGroup, OrphanPolicy.Delete);
    Metrics metrics = new Metrics();

    List<Decision> decisions = daemon(view, reporter, metrics).pass();

    assertThat(decisions)
        .filteredOn(d -> d.action() == Action.Removed)
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.finding().segment().ipcNamespace()).isEqualTo(a.inode());
              assertThat(d.finding().segment().shmid()).isEqualTo(orphan);
            });
    assertThat(real.shmids(a)).containsExactly(attached.shmid());
    assertThat(real.shmids(b)).as("a pod in no group is under Report").containsExactly(lonerOrphan);

    SharedIpcNode report = client.resources(SharedIpcNode.class).withName(nodeName).get();
    assertThat(report.getMetadata().getOwnerReferences())
        .as("the report is owned by its Node")
        .singleElement()
        .satisfies(
            o -> {
              assertThat(o.getKind()).isEqualTo("Node");
              assertThat(o.getName()).isEqualTo(nodeName);
              assertThat(o.getUid()).isEqualTo(node.getMetadata().getUid());
            });
    SharedIpcNodeStatus status = report.getStatus();
    assertThat(status.getTotals().segments).isEqualTo(3);
    assertThat(status.getTotals().ipcNamespaces).isEqualTo(2);
    assertThat(status.getKernel().shmmax)
        .as("exact through the API server, though beyond a signed long on a stock kernel")
        .isEqualTo(new String(LinuxKernel.readProcFile(Path.of("/proc/sys/kernel/shmmax"))).trim());
    assertThat(status.getOrphansRemovedByGroup()).containsEntry(namespace + "/feed", 1L);
    assertThat(status.getIpcNamespaces())
        .anySatisfy(
            n -> {
              assertThat(n.podName).isEqualTo("feed-0");
              assertThat(n.group).isEqualTo("feed");
              assertThat(n.instance).isZero();
              assertThat(n.semaphoreSets).isEqualTo(1);
              assertThat(n.semaphores).isEqualTo(2);
            });
    assertThat(status.getTotals().semaphoreSets).isEqualTo(1);
    long semLines =
        new LinuxKernel().inIpcNamespace(a.ref(), s -> new String(s.readSysvSem()).lines().count());
    assertThat(semLines).as("the set is still there: header and one line").isEqualTo(2);
    assertThat(status.getTopOrphans())
        .anySatisfy(
            o -> {
              assertThat(o.ipcNamespace).isEqualTo(a.inode());
              assertThat(o.shmid).isEqualTo(orphan);
              assertThat(o.action).isEqualTo("Removed");
            });
    assertThat(decisions)
        .filteredOn(d -> d.finding().segment().ipcNamespace() == b.inode())
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.action()).isEqualTo(Action.Kept);
              assertThat(d.finding().policy().source()).contains("is in no SharedIpcGroup");
            });
    assertThat(status.getConditions())
        .anySatisfy(
            c -> {
              assertThat(c.getType()).isEqualTo("Ready");
              assertThat(c.getStatus()).isEqualTo("True");
            });

    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(client.v1().events().inNamespace(namespace).list().getItems())
                    .anySatisfy(
                        e -> {
                          assertThat(e.getReason()).isEqualTo("OrphanSegmentRemoved");
                          assertThat(e.getInvolvedObject().getName()).isEqualTo("feed-0");
                          assertThat(e.getMessage()).contains("shmid=" + orphan, "key=0x00006100");
                        }));

    String scrape = metrics.scrape();
    assertThat(scrape)
        .contains("sharedipc_segments_removed_total{group=\"" + namespace + "/feed\"} 1.0");
    assertThat(scrape).contains("sharedipc_api_server_up 1.0");
    assertThat(scrape).contains("sharedipc_semaphore_sets{group=\"" + namespace + "/feed\"} 1.0");
    assertThat(scrape).contains("sharedipc_segments{verdict=\"InUse\"} 1.0");
    assertThat(scrape)
        .containsPattern(
            "sharedipc_orphan_segment_size_bytes\\{.*ipc_namespace=\""
                + a.inode()
                + "\".*shmid=\""
                + orphan
                + "\".*} 262144.0");
  }

  @Test
  void onlyThePolicyTheOperatorPublishesDecides() throws Exception {
    record Case(
        String group,
        OrphanPolicy spec,
        EffectiveOrphanPolicy published,
        Pod pod,
        Ns ns,
        int orphan) {}
    List<Case> cases = new java.util.ArrayList<>();
    int key = 0x6300;
    for (Object[] c :
        new Object[][] {
          {"capped", OrphanPolicy.Delete, published(OrphanPolicy.Report, "0s")},
          {"allowed", OrphanPolicy.Report, published(OrphanPolicy.Delete, "0s")},
          {"unpublished", OrphanPolicy.Delete, null},
          {"unreadable", OrphanPolicy.Delete, published(OrphanPolicy.Delete, "soon")}
        }) {
      String name = (String) c[0];
      group(name, (OrphanPolicy) c[1], (EffectiveOrphanPolicy) c[2]);
      Pod pod = pod(name + "-0", Map.of(Labels.GROUP, name, Labels.INSTANCE, "0"));
      Ns ns = real.newNamespace();
      new ProcFixture(proc)
          .realNamespace(
              (int) ns.pid(), ns.pid(), ProcFixture.podCgroup(pod.getMetadata().getUid()));
      cases.add(
          new Case(
              name,
              (OrphanPolicy) c[1],
              (EffectiveOrphanPolicy) c[2],
              pod,
              ns,
              real.orphan(ns, key++, 4096)));
    }
    view = new ClusterView(kube(), nodeName).start();
    reporter = new NodeReporter(kube(), nodeName, false, Duration.ofSeconds(10));
    awaitPolicyKnown(cases.get(1).pod(), OrphanPolicy.Delete);
    for (Case c : cases) {
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> view.byUid(c.pod().getMetadata().getUid()).isPresent());
    }

    List<Decision> decisions = daemon(view, reporter, new Metrics()).pass();

    Map<String, Decision> byGroup = new java.util.HashMap<>();
    decisions.forEach(d -> byGroup.put(d.finding().attribution().pod().group(), d));
    assertThat(byGroup.get("allowed").action())
        .as("status Delete, spec Report")
        .isEqualTo(Action.Removed);
    assertThat(real.shmids(cases.get(1).ns())).isEmpty();
    assertThat(byGroup.get("capped").action())
        .as("status Report, spec Delete")
        .isEqualTo(Action.Kept);
    assertThat(byGroup.get("capped").finding().policy().source())
        .isEqualTo("group " + namespace + "/capped: published by the test");
    assertThat(byGroup.get("unpublished").action())
        .as("no status, spec Delete")
        .isEqualTo(Action.Kept);
    assertThat(byGroup.get("unpublished").reason()).contains("has no status.effectiveOrphanPolicy");
    assertThat(byGroup.get("unreadable").action())
        .as("status Delete with grace 'soon'")
        .isEqualTo(Action.Kept);
    assertThat(byGroup.get("unreadable").reason())
        .contains("unreadable status.effectiveOrphanPolicy.gracePeriod 'soon'");
    for (Case c : List.of(cases.get(0), cases.get(2), cases.get(3))) {
      assertThat(real.shmids(c.ns()))
          .as("segments of group %s", c.group())
          .containsExactly(c.orphan());
    }
  }

  @Test
  void theReportIsOwnedByItsNodeOnceTheNodeExistsAndGoesWithIt() throws Exception {
    reporter = new NodeReporter(kube(), nodeName, false, Duration.ofSeconds(10));
    assertThat(reporter.report(statusWith(Map.of()))).isTrue();
    assertThat(
            client
                .resources(SharedIpcNode.class)
                .withName(nodeName)
                .get()
                .getMetadata()
                .getOwnerReferences())
        .as("no Node yet: written without an owner")
        .isNullOrEmpty();

    Node node =
        client
            .nodes()
            .resource(new NodeBuilder().withNewMetadata().withName(nodeName).endMetadata().build())
            .create();
    assertThat(reporter.report(statusWith(Map.of()))).isTrue();

    assertThat(
            client
                .resources(SharedIpcNode.class)
                .withName(nodeName)
                .get()
                .getMetadata()
                .getOwnerReferences())
        .singleElement()
        .satisfies(
            o -> {
              assertThat(o.getApiVersion()).isEqualTo("v1");
              assertThat(o.getKind()).isEqualTo("Node");
              assertThat(o.getUid()).isEqualTo(node.getMetadata().getUid());
            });
    client.resource(node).delete();
    await("the garbage collector removes the report of a deleted node")
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> client.resources(SharedIpcNode.class).withName(nodeName).get() == null);
  }

  /**
   * The agent's calls under its own ClusterRole (deploy/agent-rbac.yaml), as its ServiceAccount:
   * the informers list and watch, the report is created, replaced and given its Node as owner once
   * the Node exists. A verb the code uses and the role lacks fails here.
   */
  @Test
  void theAgentsClusterRoleCoversWhatItReadsAndWrites() throws Exception {
    KubernetesClient admin = api.client();
    if (admin.namespaces().withName("sharedipc-agent").get() == null) {
      admin
          .namespaces()
          .resource(
              new io.fabric8.kubernetes.api.model.NamespaceBuilder()
                  .withNewMetadata()
                  .withName("sharedipc-agent")
                  .endMetadata()
                  .build())
          .create();
    }
    try (var in =
        java.nio.file.Files.newInputStream(
            dev.sharedipc.api.RepoPaths.root().resolve("deploy/agent-rbac.yaml"))) {
      admin.load(in).forceConflicts().serverSideApply();
    }
    var agent =
        dev.sharedipc.agent.testing.AgentClients.as(
            api,
            "system:serviceaccount:sharedipc-agent:sharedipc-agent",
            "system:serviceaccounts",
            "system:serviceaccounts:sharedipc-agent",
            "system:authenticated");
    view = new ClusterView(agent, nodeName).start();
    reporter = new NodeReporter(agent, nodeName, false, Duration.ofSeconds(10));
    await().atMost(Duration.ofSeconds(30)).until(() -> view.notReady().isEmpty());

    assertThat(reporter.report(statusWith(Map.of())))
        .as("create, then replace the status")
        .isTrue();
    Node node =
        admin
            .nodes()
            .resource(new NodeBuilder().withNewMetadata().withName(nodeName).endMetadata().build())
            .create();
    assertThat(reporter.report(statusWith(Map.of(namespace + "/g", 1L)))).isTrue();

    SharedIpcNode report = admin.resources(SharedIpcNode.class).withName(nodeName).get();
    assertThat(report.getMetadata().getOwnerReferences())
        .as("owner added by a patch once the Node exists")
        .singleElement()
        .satisfies(o -> assertThat(o.getUid()).isEqualTo(node.getMetadata().getUid()));
    assertThat(report.getStatus().getOrphansRemovedByGroup()).containsEntry(namespace + "/g", 1L);
    assertThat(
            org.assertj.core.api.Assertions.catchThrowableOfType(
                    dev.sharedipc.agent.kube.ApiException.class,
                    () ->
                        agent.create(
                            "/api/v1/namespaces/" + namespace + "/configmaps",
                            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"}}"))
                .code())
        .as("the role is enforced: nothing beyond it")
        .isEqualTo(403);
    admin.resource(node).delete();
  }

  static SharedIpcNodeStatus statusWith(Map<String, Long> removedByGroup) {
    SharedIpcNodeStatus s = new SharedIpcNodeStatus();
    s.setAgentVersion("it");
    s.setOrphansRemovedByGroup(new java.util.TreeMap<>(removedByGroup));
    return s;
  }

  @Test
  void removalCountsStayBoundedOnTheServerAndGroupsThatLeaveAreGone() {
    reporter = new NodeReporter(kube(), nodeName, false, Duration.ofSeconds(10));
    RemovalCounts counts = new RemovalCounts();
    for (int i = 0; i < RemovalCounts.MAX_GROUPS; i++) {
      counts.add(namespace + "/group-" + i);
    }
    Findings none =
        new Findings(
            java.time.Instant.now(),
            Duration.ofMillis(1),
            List.of(),
            List.of(),
            List.of(),
            null,
            List.of(),
            0);
    NodeStatusBuilder builder = new NodeStatusBuilder("it");
    assertThat(reporter.report(builder.build(none, List.of(), counts))).isTrue();
    SharedIpcNodeStatus atLimit =
        client.resources(SharedIpcNode.class).withName(nodeName).get().getStatus();
    assertThat(atLimit.getOrphansRemovedByGroup())
        .hasSize(RemovalCounts.MAX_GROUPS)
        .containsKey(namespace + "/group-0");
    assertThat(atLimit.getOrphansRemovedInOtherGroups()).isNull();
    assertThat(atLimit.getOrphansRemovedByGroupUid())
        .as(
            "kept by the API server even when empty: it tells the operator to count removals by UID")
        .isNotNull()
        .isEmpty();

    counts.add(namespace + "/one-more");
    assertThat(reporter.report(builder.build(none, List.of(), counts))).isTrue();

    SharedIpcNodeStatus past =
        client.resources(SharedIpcNode.class).withName(nodeName).get().getStatus();
    assertThat(past.getOrphansRemovedByGroup())
        .as("a group that left the report left the object too")
        .hasSize(RemovalCounts.MAX_GROUPS)
        .containsKey(namespace + "/one-more")
        .doesNotContainKey(namespace + "/group-0");
    assertThat(past.getOrphansRemovedInOtherGroups()).isEqualTo(1L);
  }

  /**
   * The agent as the DaemonSet runs it, in this JVM: {@code serve} with the client it builds, on
   * its own thread.
   */
  final class Serve implements AutoCloseable {
    final int port;
    final Thread thread;
    final java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();

    Serve(Path kubeconfig) throws Exception {
      try (java.net.ServerSocket probe = new java.net.ServerSocket(0)) {
        port = probe.getLocalPort();
      }
      Path shared = java.nio.file.Files.createDirectories(proc.resolve("shared-root"));
      thread =
          new Thread(
              () ->
                  dev.sharedipc.agent.cli.Main.run(
                      "serve",
                      "--node-name",
                      nodeName,
                      "--interval",
                      "1s",
                      "--listen",
                      "127.0.0.1:" + port,
                      "--kubeconfig",
                      kubeconfig.toString(),
                      "--proc-root",
                      proc.toString(),
                      "--kubelet-root",
                      proc.resolve("none").toString(),
                      "--shared-root",
                      shared.toString(),
                      "--ledger",
                      "none",
                      "--host-ipc-ns",
                      "/proc/self/ns/ipc"),
              "serve-it");
      thread.start();
      await("serve listens")
          .atMost(Duration.ofSeconds(30))
          .ignoreExceptions()
          .until(() -> get("/metrics").statusCode() == 200);
    }

    java.net.http.HttpResponse<String> get(String path) throws Exception {
      return http.send(
          java.net.http.HttpRequest.newBuilder(
                  java.net.URI.create("http://127.0.0.1:" + port + path))
              .timeout(Duration.ofSeconds(5))
              .build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
    }

    String metrics() throws Exception {
      return get("/metrics").body();
    }

    double metric(String series) throws Exception {
      return dev.sharedipc.agent.testing.Scrapes.value(metrics(), series);
    }

    @Override
    public void close() {
      thread.interrupt();
      try {
        thread.join(Duration.ofSeconds(30).toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** The real API server's kubeconfig, pointed at a gate in front of it, as a file. */
  Path kubeconfigThrough(TcpGate gate) throws Exception {
    Path file = proc.resolve("gated.kubeconfig");
    java.nio.file.Files.writeString(
        file, dev.sharedipc.agent.testing.AgentClients.kubeconfigThrough(api, gate));
    return file;
  }

  @Test
  void startedWithTheApiServerDownItReapsByGroupPolicyOnceTheServerIsUp() throws Exception {
    group("feed", OrphanPolicy.Report, published(OrphanPolicy.Delete, "0s"));
    Pod inGroup = pod("feed-0", Map.of(Labels.GROUP, "feed", Labels.INSTANCE, "0"));
    Ns a = real.newNamespace();
    new ProcFixture(proc)
        .realNamespace(
            (int) a.pid(), a.pid(), ProcFixture.podCgroup(inGroup.getMetadata().getUid()));
    int orphan = real.orphan(a, 0x6400, 4096);

    try (TcpGate gate = dev.sharedipc.agent.testing.AgentClients.gateInFrontOf(api);
        Serve serve = new Serve(kubeconfigThrough(gate))) {
      // away: scanning goes on, nothing is removed, the agent is alive but not ready
      await("two passes with the API server away")
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> serve.metric("sharedipc_scans_total") >= 2);
      assertThat(serve.metrics())
          .contains(
              "sharedipc_informer_synced{informer=\"pods\"} 0.0",
              "sharedipc_informer_synced{informer=\"groups\"} 0.0",
              "sharedipc_api_server_up 0.0");
      assertThat(serve.get("/readyz").statusCode()).isEqualTo(503);
      assertThat(serve.get("/readyz").body()).contains("not synced yet");
      assertThat(serve.get("/healthz").statusCode())
          .as("retrying informers are alive")
          .isEqualTo(200);
      assertThat(real.shmids(a)).containsExactly(orphan);

      gate.open();

      await("the orphan is removed by the group's published policy")
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> real.shmids(a).isEmpty());
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(200))
          .untilAsserted(
              () -> {
                assertThat(serve.metrics())
                    .contains(
                        "sharedipc_informer_synced{informer=\"pods\"} 1.0",
                        "sharedipc_informer_synced{informer=\"groups\"} 1.0",
                        "sharedipc_api_server_up 1.0",
                        "sharedipc_segments_removed_total{group=\"" + namespace + "/feed\"} 1.0");
                assertThat(serve.get("/readyz").statusCode()).isEqualTo(200);
                assertThat(client.resources(SharedIpcNode.class).withName(nodeName).get())
                    .isNotNull();
              });
    }
  }

  @Test
  void aSilentApiServerHoldsNoPassUp() throws Exception {
    group("feed", OrphanPolicy.Report, published(OrphanPolicy.Delete, "0s"));
    Pod inGroup = pod("feed-0", Map.of(Labels.GROUP, "feed", Labels.INSTANCE, "0"));
    Ns a = real.newNamespace();
    new ProcFixture(proc)
        .realNamespace(
            (int) a.pid(), a.pid(), ProcFixture.podCgroup(inGroup.getMetadata().getUid()));
    int orphan = real.orphan(a, 0x6500, 4096);

    try (TcpGate gate = dev.sharedipc.agent.testing.AgentClients.gateInFrontOf(api)) {
      gate.blackhole();
      try (Serve serve = new Serve(kubeconfigThrough(gate))) {
        double first = serve.metric("sharedipc_scans_total");
        // each request to a silent server waits out the client's timeouts (10s, and retries);
        // four passes within 15s mean no pass waited for one
        await("passes keep their 1s schedule")
            .atMost(Duration.ofSeconds(15))
            .pollInterval(Duration.ofMillis(200))
            .until(() -> serve.metric("sharedipc_scans_total") >= first + 4);
        assertThat(serve.metrics())
            .contains(
                "sharedipc_api_server_up 0.0", "sharedipc_informer_synced{informer=\"pods\"} 0.0");
        assertThat(serve.get("/healthz").statusCode()).isEqualTo(200);
        assertThat(serve.get("/readyz").statusCode()).isEqualTo(503);
        assertThat(real.shmids(a)).containsExactly(orphan);

        gate.open();

        await("once the server answers, the orphan is removed")
            .atMost(Duration.ofSeconds(120))
            .pollInterval(Duration.ofMillis(500))
            .until(() -> real.shmids(a).isEmpty());
        await()
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(200))
            .until(() -> client.resources(SharedIpcNode.class).withName(nodeName).get() != null);
      }
    }
  }

  @Test
  void anInformerThatStoppedMakesTheAgentUnhealthy() {
    view = new ClusterView(kube(), nodeName).start();
    await().atMost(Duration.ofSeconds(30)).until(() -> view.notReady().isEmpty());
    assertThat(view.unhealthy()).isEmpty();

    view.close();

    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(view.unhealthy())
                    .hasValueSatisfying(why -> assertThat(why).contains("groups, pods stopped")));
  }
}
