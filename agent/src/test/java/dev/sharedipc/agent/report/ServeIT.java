package dev.sharedipc.agent.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.agent.Survey;
import dev.sharedipc.agent.attribution.Ledger;
import dev.sharedipc.agent.kernel.LinuxKernel;
import dev.sharedipc.agent.reap.Action;
import dev.sharedipc.agent.reap.Decision;
import dev.sharedipc.agent.reap.Reaper;
import dev.sharedipc.agent.scan.NamespaceCollector;
import dev.sharedipc.agent.testing.ProcFixture;
import dev.sharedipc.agent.testing.RealNamespaces;
import dev.sharedipc.agent.testing.RealNamespaces.Ns;
import dev.sharedipc.api.Labels;
import dev.sharedipc.api.testing.RealApiServer;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcNode;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
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
 * The serving agent against a real API server and the real kernel: pods and a group with policy
 * Delete in the API server, their IPC namespaces real (a fixture proc root maps each to its pod's
 * UID). One pass removes the group's orphan and only that, writes the SharedIpcNode status, an
 * Event and metrics; with the API server away the pass still scans and reaps.
 */
class ServeIT {
  @TempDir Path proc;
  RealNamespaces real;
  RealApiServer api;
  String namespace;
  String nodeName;
  KubernetesClient client;
  ClusterLink link;

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
    if (link != null) {
      link.close();
    }
    if (client != null) {
      client.close();
    }
    real.close();
  }

  Pod pod(String name, Map<String, String> labels) {
    return client.pods().inNamespace(namespace).resource(new PodBuilder()
        .withNewMetadata().withName(name).withLabels(labels).endMetadata()
        .withNewSpec().withNodeName(nodeName).addNewContainer().withName("c").withImage("busybox:1.36").endContainer().endSpec()
        .build()).create();
  }

  Daemon daemon(ClusterLink cluster, Metrics metrics) {
    Survey.Config config = new Survey.Config(proc, LinuxKernel.PROC, NamespaceCollector.nsInode(Path.of("/proc/self/ns/ipc")),
        proc.resolve("none"), proc.resolve("none"));
    LinuxKernel kernel = new LinuxKernel();
    Survey survey = new Survey(config, kernel, cluster, Ledger.inMemory(), cluster, Clock.systemUTC());
    return new Daemon(survey, new Reaper(kernel, LinuxKernel.PROC, false, d -> {}), metrics, new NodeStatusBuilder("it"), cluster,
        Duration.ofSeconds(30));
  }

  @Test
  void onePassRemovesTheGroupsOrphanAndReportsItEverywhere() throws Exception {
    client.resources(SharedIpcGroup.class).inNamespace(namespace).load(new ByteArrayInputStream(("""
        apiVersion: sharedipc.dev/v1alpha1
        kind: SharedIpcGroup
        metadata: {name: feed}
        spec:
          segments: {orphanPolicy: Delete, orphanGracePeriod: 0s}
          members:
            - name: writer
              template: {spec: {containers: [{name: writer, image: busybox:1.36}]}}
        """).getBytes(StandardCharsets.UTF_8))).create();
    Pod inGroup = pod("feed-0", Map.of(Labels.GROUP, "feed", Labels.INSTANCE, "0"));
    Pod loner = pod("loner", Map.of());
    Ns a = real.newNamespace();
    Ns b = real.newNamespace();
    new ProcFixture(proc)
        .realNamespace((int) a.pid(), a.pid(), ProcFixture.podCgroup(inGroup.getMetadata().getUid()))
        .realNamespace((int) b.pid(), b.pid(), ProcFixture.podCgroup(loner.getMetadata().getUid()));
    int orphan = real.orphan(a, 0x6100, 256 << 10);
    RealNamespaces.Handle attached = real.attached(a, 0x6101, 4096);
    int lonerOrphan = real.orphan(b, 0x6100, 4096);

    link = new ClusterLink(client, nodeName, false);
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
        .until(() -> link.byUid(inGroup.getMetadata().getUid()).isPresent()
            && link.policyFor(new dev.sharedipc.agent.attribution.Attribution(
                dev.sharedipc.agent.attribution.Attribution.Source.POD_NAMESPACE, inGroup.getMetadata().getUid(),
                link.byUid(inGroup.getMetadata().getUid()).get(), "")).source().equals("group " + namespace + "/feed"));
    Metrics metrics = new Metrics();

    List<Decision> decisions = daemon(link, metrics).pass();

    assertThat(decisions).filteredOn(d -> d.action() == Action.Removed).singleElement()
        .satisfies(d -> {
          assertThat(d.finding().segment().ipcNamespace()).isEqualTo(a.inode());
          assertThat(d.finding().segment().shmid()).isEqualTo(orphan);
        });
    assertThat(real.shmids(a)).containsExactly(attached.shmid());
    assertThat(real.shmids(b)).as("a pod in no group is under Report").containsExactly(lonerOrphan);

    SharedIpcNodeStatus status = client.resources(SharedIpcNode.class).withName(nodeName).get().getStatus();
    assertThat(status.getTotals().segments).isEqualTo(3);
    assertThat(status.getTotals().ipcNamespaces).isEqualTo(2);
    assertThat(status.getKernel().shmmax).as("exact through the API server, though beyond a signed long on a stock kernel")
        .isEqualTo(new String(LinuxKernel.readProcFile(Path.of("/proc/sys/kernel/shmmax"))).trim());
    assertThat(status.getOrphansRemovedByGroup()).containsEntry(namespace + "/feed", 1L);
    assertThat(status.getIpcNamespaces()).anySatisfy(n -> {
      assertThat(n.podName).isEqualTo("feed-0");
      assertThat(n.group).isEqualTo("feed");
      assertThat(n.instance).isZero();
    });
    assertThat(status.getTopOrphans()).anySatisfy(o -> {
      assertThat(o.ipcNamespace).isEqualTo(a.inode());
      assertThat(o.shmid).isEqualTo(orphan);
      assertThat(o.action).isEqualTo("Removed");
    });
    assertThat(decisions).filteredOn(d -> d.finding().segment().ipcNamespace() == b.inode()).singleElement().satisfies(d -> {
      assertThat(d.action()).isEqualTo(Action.Kept);
      assertThat(d.finding().policy().source()).contains("is in no SharedIpcGroup");
    });
    assertThat(status.getConditions()).anySatisfy(c -> {
      assertThat(c.getType()).isEqualTo("Ready");
      assertThat(c.getStatus()).isEqualTo("True");
    });

    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(client.v1().events().inNamespace(namespace).list().getItems())
        .anySatisfy(e -> {
          assertThat(e.getReason()).isEqualTo("OrphanSegmentRemoved");
          assertThat(e.getInvolvedObject().getName()).isEqualTo("feed-0");
          assertThat(e.getMessage()).contains("shmid=" + orphan, "key=0x00006100");
        }));

    String scrape = metrics.scrape();
    assertThat(scrape).contains("sharedipc_segments_removed_total{group=\"" + namespace + "/feed\"} 1.0");
    assertThat(scrape).contains("sharedipc_api_server_up 1.0");
    assertThat(scrape).contains("sharedipc_segments{verdict=\"InUse\"} 1.0");
    assertThat(scrape).containsPattern("sharedipc_orphan_segment_size_bytes\\{.*ipc_namespace=\"" + a.inode() + "\".*shmid=\"" + orphan + "\".*} 262144.0");
  }

  @Test
  void withTheApiServerAwayThePassStillScansAndReports() throws Exception {
    Ns a = real.newNamespace();
    new ProcFixture(proc).realNamespace((int) a.pid(), a.pid(), ProcFixture.podCgroup("0a0a0a0a-0000-4000-8000-000000000001"));
    int orphan = real.orphan(a, 0x6200, 4096);
    Config dead = Config.fromKubeconfig(api.kubeConfigYaml());
    dead.setMasterUrl("https://127.0.0.1:1");
    dead.setRequestTimeout(1000);
    dead.setConnectionTimeout(1000);
    dead.setRequestRetryBackoffLimit(0);
    try (KubernetesClient away = new KubernetesClientBuilder().withConfig(dead).build()) {
      link = new ClusterLink(away, nodeName, false);
      Metrics metrics = new Metrics();
      Daemon daemon = daemon(link, metrics);

      List<Decision> decisions = daemon.pass();

      assertThat(decisions).singleElement().satisfies(d -> {
        assertThat(d.finding().segment().shmid()).isEqualTo(orphan);
        assertThat(d.action()).isEqualTo(Action.Kept);
        assertThat(d.finding().policy().source()).contains("not known to the API server");
      });
      assertThat(daemon.healthy()).isTrue();
      assertThat(metrics.scrape()).contains("sharedipc_api_server_up 0.0", "sharedipc_scans_total 1.0");
      assertThat(real.shmids(a)).containsExactly(orphan);
    }
  }
}
