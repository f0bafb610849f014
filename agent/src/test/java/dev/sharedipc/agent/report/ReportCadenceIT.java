package dev.sharedipc.agent.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.agent.attribution.Ledger;
import dev.sharedipc.agent.attribution.PodDirectory;
import dev.sharedipc.agent.kernel.LinuxKernel;
import dev.sharedipc.agent.reap.Reaper;
import dev.sharedipc.agent.scan.NamespaceCollector;
import dev.sharedipc.agent.survey.Survey;
import dev.sharedipc.agent.testing.ProcFixture;
import dev.sharedipc.agent.testing.RealNamespaces;
import dev.sharedipc.agent.testing.RealNamespaces.Ns;
import dev.sharedipc.agent.verdict.Policy;
import dev.sharedipc.agent.verdict.PolicyResolver;
import dev.sharedipc.api.testing.RealApiServer;
import dev.sharedipc.api.v1alpha1.SharedIpcNode;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report's cadence on a real API server, over real IPC namespaces: passes that find nothing new
 * make no write (every change of the SharedIpcNode's resourceVersion is counted by a watch), a
 * heartbeat is written once it is due, a change is written at the next pass, and a report deleted
 * or overwritten by someone else is written again.
 */
class ReportCadenceIT {
  @TempDir Path proc;
  RealNamespaces real;
  RealApiServer api;

  /** The agent's own client of the test's API server, as the agent would connect. */
  dev.sharedipc.agent.kube.KubeApi kube() {
    return dev.sharedipc.agent.testing.AgentClients.of(api);
  }

  String nodeName;
  KubernetesClient client;
  NodeReporter reporter;
  Watch watch;
  Ns ns;
  final List<String> versions = new CopyOnWriteArrayList<>();

  /** A clock the test moves: the heartbeat without waiting five minutes. */
  static final class ManualClock extends Clock {
    volatile Instant now = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  @BeforeEach
  void setUp() throws Exception {
    real = new RealNamespaces();
    api = RealApiServer.shared();
    nodeName = "node-" + api.newNamespace("cadence");
    client = api.newClient();
    client
        .nodes()
        .resource(new NodeBuilder().withNewMetadata().withName(nodeName).endMetadata().build())
        .create();
    ns = real.newNamespace();
    new ProcFixture(proc)
        .realNamespace(
            (int) ns.pid(),
            ns.pid(),
            ProcFixture.podCgroup("0b1c2d3e-0000-4000-8000-000000000001"));
    real.orphan(ns, 0x6200, 4096);
  }

  @AfterEach
  void tearDown() throws Exception {
    if (watch != null) {
      watch.close();
    }
    if (reporter != null) {
      reporter.close();
    }
    if (client != null) {
      client.nodes().withName(nodeName).delete();
      client.resources(SharedIpcNode.class).withName(nodeName).delete();
      client.close();
    }
    real.close();
  }

  Daemon daemon() {
    return daemon(Clock.systemUTC());
  }

  /**
   * @param clock the survey's clock, so that lastScanTime moves with a test's clock
   */
  Daemon daemon(Clock clock) {
    Survey.Config config =
        new Survey.Config(
            proc,
            LinuxKernel.PROC,
            NamespaceCollector.nsInode(Path.of("/proc/self/ns/ipc")),
            proc.resolve("none"),
            proc.resolve("none"));
    LinuxKernel kernel = new LinuxKernel();
    Survey survey =
        new Survey(
            config,
            kernel,
            PodDirectory.OFFLINE,
            Ledger.inMemory(),
            PolicyResolver.fixed(Policy.UNKNOWN),
            clock);
    return new Daemon(
        survey,
        new Reaper(kernel, LinuxKernel.PROC, false, d -> {}),
        new Metrics(),
        new NodeStatusBuilder("it"),
        reporter,
        Duration.ofSeconds(30));
  }

  SharedIpcNode report() {
    return client.resources(SharedIpcNode.class).withName(nodeName).get();
  }

  long segments() {
    SharedIpcNode n = report();
    return n == null || n.getStatus() == null ? -1 : n.getStatus().getTotals().segments;
  }

  /** Records every resourceVersion the object takes from now on. */
  void watchVersions() {
    watch =
        client
            .resources(SharedIpcNode.class)
            .withName(nodeName)
            .watch(
                new Watcher<>() {
                  @Override
                  public void eventReceived(Action action, SharedIpcNode resource) {
                    versions.add(action + " " + resource.getMetadata().getResourceVersion());
                  }

                  @Override
                  public void onClose(WatcherException cause) {}
                });
  }

  /**
   * The resourceVersions the watch saw up to now: a label written by the test marks the end, so
   * every earlier event has arrived once the marker has (a watch delivers in order).
   */
  List<String> versionsSoFar(String marker) {
    SharedIpcNode marked =
        client
            .resources(SharedIpcNode.class)
            .withName(nodeName)
            .patch(
                PatchContext.of(PatchType.JSON_MERGE),
                "{\"metadata\":{\"labels\":{\"test-marker\":\"" + marker + "\"}}}");
    String end = "MODIFIED " + marked.getMetadata().getResourceVersion();
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> versions.contains(end));
    List<String> seen = List.copyOf(versions.subList(0, versions.indexOf(end)));
    versions.clear();
    return seen;
  }

  @Test
  void passesThatFindNothingNewWriteNothingAndAChangeIsWrittenAtTheNextPass() throws Exception {
    reporter = new NodeReporter(kube(), nodeName, false, Duration.ofSeconds(10));
    Daemon daemon = daemon();
    daemon.pass();
    assertThat(segments()).isEqualTo(1);
    watchVersions();
    versionsSoFar("start");

    for (int i = 0; i < 10; i++) {
      daemon.pass();
    }
    assertThat(versionsSoFar("quiet"))
        .as("ten quiet passes within a heartbeat write nothing")
        .isEmpty();

    real.orphan(ns, 0x6201, 4096);
    daemon.pass();
    assertThat(segments()).as("the new segment is in the report after the next pass").isEqualTo(2);
    assertThat(versionsSoFar("changed")).as("one write for the change").hasSize(1);
  }

  @Test
  void theReportIsOwnedByItsNode() throws Exception {
    reporter = new NodeReporter(kube(), nodeName, false, Duration.ofSeconds(10));
    daemon().pass();
    String nodeUid = client.nodes().withName(nodeName).get().getMetadata().getUid();
    assertThat(report().getMetadata().getOwnerReferences())
        .as("the report is owned by its Node")
        .singleElement()
        .extracting(r -> r.getUid())
        .isEqualTo(nodeUid);
  }

  @Test
  void aQuietNodeWritesOneHeartbeatPerHeartbeatInterval() throws Exception {
    ManualClock clock = new ManualClock();
    reporter =
        new NodeReporter(
            kube(), nodeName, false, Duration.ofSeconds(10), Duration.ofMinutes(5), clock);
    Daemon daemon = daemon(clock);
    daemon.pass();
    watchVersions();
    versionsSoFar("start");

    // twenty passes 30 s apart: ten minutes, two heartbeats
    for (int i = 0; i < 20; i++) {
      clock.now = clock.now.plusSeconds(30);
      daemon.pass();
    }
    assertThat(versionsSoFar("beats")).as("two heartbeats in ten quiet minutes").hasSize(2);
    assertThat(reporter.writesAndSkips()).containsExactly(3, 18);
    assertThat(Instant.parse(report().getStatus().getLastScanTime()))
        .as("the last heartbeat renewed lastScanTime")
        .isAfterOrEqualTo(clock.now);
  }

  @Test
  void aReportDeletedOrOverwrittenBySomeoneElseIsWrittenAgain() throws Exception {
    reporter = new NodeReporter(kube(), nodeName, false, Duration.ofSeconds(10));
    Daemon daemon = daemon();
    daemon.pass();
    assertThat(segments()).isEqualTo(1);

    client.resources(SharedIpcNode.class).withName(nodeName).delete();
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              daemon.pass();
              return segments() == 1;
            });

    client
        .resources(SharedIpcNode.class)
        .withName(nodeName)
        .subresource("status")
        .patch(
            PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{\"totals\":{\"segments\":99}}}");
    assertThat(segments()).isEqualTo(99);
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              daemon.pass();
              return segments() == 1;
            });
    assertThat(report().getMetadata().getOwnerReferences())
        .as("still owned by its Node")
        .anySatisfy(r -> assertThat(r.getName()).isEqualTo(nodeName));
  }
}
