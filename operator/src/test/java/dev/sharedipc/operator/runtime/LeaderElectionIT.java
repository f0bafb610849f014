package dev.sharedipc.operator.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.api.Labels;
import dev.sharedipc.api.testing.RealApiServer;
import dev.sharedipc.operator.Fixtures;
import dev.sharedipc.operator.Main;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two operator replicas with leader election: both are ready, one reconciles, the other takes over
 * when it goes. In-process replicas for the hand-over; real processes for SIGTERM, which is how
 * Kubernetes stops a replica in every rollout and drain.
 */
class LeaderElectionIT {
  private static final String LEADS = "sharedipc_operator_controllers_started 1.0";
  private static final String STANDS_BY = "sharedipc_operator_controllers_started 0.0";
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final List<OperatorRuntime> runtimes = new ArrayList<>();
  private final List<KubernetesClient> clients = new ArrayList<>();
  private final List<OperatorJvm> processes = new ArrayList<>();

  @AfterEach
  void stop() {
    runtimes.forEach(OperatorRuntime::close);
    clients.forEach(KubernetesClient::close);
    processes.forEach(OperatorJvm::kill);
  }

  private OperatorRuntime replica(RealApiServer api, String leaseNamespace, String watched)
      throws IOException {
    OperatorSettings settings = new OperatorSettings();
    settings.leaderElection = true;
    settings.leaderElectionNamespace = leaseNamespace;
    settings.exitOnLostLease = false;
    settings.namespaces = List.of(watched);
    settings.httpAddress = "127.0.0.1";
    settings.httpPort = 0;
    KubernetesClient client = api.newClient();
    clients.add(client);
    OperatorRuntime runtime = OperatorRuntime.start(settings, client);
    runtimes.add(runtime);
    return runtime;
  }

  @Test
  void bothReplicasAreReadyOneLeadsAndTheOtherTakesOverWhenItStops() throws Exception {
    RealApiServer api = RealApiServer.shared();
    KubernetesClient client = api.client();
    String leases = api.newNamespace("leases");
    String ns = api.newNamespace("led");
    OperatorRuntime first = replica(api, leases, ns);
    await().atMost(Duration.ofSeconds(30)).until(first::isStarted);
    OperatorRuntime second = replica(api, leases, ns);

    assertThat(client.leases().inNamespace(leases).withName(OperatorRuntime.LEASE_NAME).get())
        .isNotNull();
    assertThat(status(first.httpPort(), "/readyz")).isEqualTo(200);
    // Ready means healthy, not leading: else a Deployment of two replicas is never Available.
    await().atMost(Duration.ofSeconds(30)).until(() -> status(second.httpPort(), "/readyz") == 200);
    assertThat(second.isStarted()).as("the standby does not reconcile").isFalse();
    assertThat(metrics(first.httpPort())).contains(LEADS);
    assertThat(metrics(second.httpPort())).contains(STANDS_BY);

    client.resource(Fixtures.forCluster("led", 1, "64Mi")).inNamespace(ns).create();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                !client
                    .pods()
                    .inNamespace(ns)
                    .withLabel(Labels.GROUP, "led")
                    .list()
                    .getItems()
                    .isEmpty());

    first.close();
    runtimes.remove(first);
    await().atMost(Duration.ofSeconds(60)).until(second::isStarted);
    assertThat(status(second.httpPort(), "/readyz")).isEqualTo(200);
    assertThat(metrics(second.httpPort())).contains(LEADS);
    client.resource(Fixtures.forCluster("after", 2, "64Mi")).inNamespace(ns).create();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                client
                        .pods()
                        .inNamespace(ns)
                        .withLabel(Labels.GROUP, "after")
                        .list()
                        .getItems()
                        .size()
                    == 2);
    assertThat(client.pods().inNamespace(ns).list().getItems())
        .extracting(p -> p.getMetadata().getName())
        .containsExactlyInAnyOrderElementsOf(Set.of("led-0", "after-0", "after-1"));
  }

  @Test
  void leaderExitsPromptlyOnSigtermAndReleasesTheLeaseToTheStandby() throws Exception {
    RealApiServer api = RealApiServer.shared();
    KubernetesClient client = api.client();
    String leases = api.newNamespace("leases");
    String ns = api.newNamespace("sigterm");
    Path dir =
        Files.createDirectories(Path.of("target", "leader-election-it", ns).toAbsolutePath());
    Path kubeconfig = api.writeKubeConfig(dir.resolve("kubeconfig"));
    OperatorJvm a = start(dir, "a", kubeconfig, leases, ns);
    OperatorJvm b = start(dir, "b", kubeconfig, leases, ns);
    await("both replicas ready (logs in " + dir + ")")
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(250))
        .until(() -> a.ready() && b.ready());
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> a.metrics().contains(LEADS) || b.metrics().contains(LEADS));
    OperatorJvm leader = a.metrics().contains(LEADS) ? a : b;
    OperatorJvm standby = leader == a ? b : a;
    assertThat(standby.metrics()).contains(STANDS_BY);
    String leaderIdentity = holder(client, leases);
    client.resource(Fixtures.forCluster("before", 1, "64Mi")).inNamespace(ns).create();
    await().atMost(Duration.ofSeconds(30)).until(() -> podsOf(client, ns, "before") == 1);

    ZonedDateTime renewedBeforeSigterm = lease(client, leases).getSpec().getRenewTime();
    leader.process.destroy(); // SIGTERM, as the kubelet stops a container
    await("the leader exits on SIGTERM (log " + leader.log + ")")
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> !leader.process.isAlive());
    assertThat(leader.process.exitValue())
        .as("exit code of the JVM ended by SIGTERM (128+15)")
        .isEqualTo(143);
    assertThat(Files.readString(leader.log))
        .contains("/" + OperatorRuntime.LEASE_NAME + " released");

    // Handed over, not expired: the standby acquired the lease before it could have expired
    // (15 s after the leader's last renewal, which was no earlier than the one read above).
    await().atMost(Duration.ofSeconds(30)).until(() -> standby.metrics().contains(LEADS));
    Lease taken = lease(client, leases);
    assertThat(taken.getSpec().getHolderIdentity()).isNotEqualTo(leaderIdentity).isNotEmpty();
    assertThat(taken.getSpec().getAcquireTime())
        .as(
            "the standby's acquireTime, vs the leader's renewTime %s plus the" + " lease duration",
            renewedBeforeSigterm)
        .isBefore(renewedBeforeSigterm.plusSeconds(15));
    client.resource(Fixtures.forCluster("after", 2, "64Mi")).inNamespace(ns).create();
    await().atMost(Duration.ofSeconds(30)).until(() -> podsOf(client, ns, "after") == 2);

    // The new leader stops as promptly.
    standby.process.destroy();
    await("the second leader exits on SIGTERM (log " + standby.log + ")")
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> !standby.process.isAlive());
    assertThat(standby.process.exitValue()).isEqualTo(143);
    await().atMost(Duration.ofSeconds(10)).until(() -> holder(client, leases).isEmpty());
  }

  private static Lease lease(KubernetesClient client, String namespace) {
    return client.leases().inNamespace(namespace).withName(OperatorRuntime.LEASE_NAME).get();
  }

  private static String holder(KubernetesClient client, String namespace) {
    Lease lease = lease(client, namespace);
    return lease == null || lease.getSpec().getHolderIdentity() == null
        ? ""
        : lease.getSpec().getHolderIdentity();
  }

  private static int podsOf(KubernetesClient client, String ns, String group) {
    return client.pods().inNamespace(ns).withLabel(Labels.GROUP, group).list().getItems().size();
  }

  private OperatorJvm start(Path dir, String name, Path kubeconfig, String leases, String watched)
      throws IOException {
    OperatorJvm jvm = new OperatorJvm(dir.resolve("operator-" + name + ".log"), freePort());
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command =
        List.of(
            java,
            "-XX:+UseSerialGC",
            "-Xmx256m",
            "-cp",
            System.getProperty("java.class.path"),
            Main.class.getName(),
            "run",
            "--leader-election",
            "--leader-election-namespace",
            leases,
            "--namespaces",
            watched,
            "--http-address",
            "127.0.0.1",
            "--http-port",
            Integer.toString(jvm.port),
            "--kubeconfig",
            kubeconfig.toString());
    Files.writeString(jvm.log, "$ " + String.join(" ", command) + "\n", StandardCharsets.UTF_8);
    jvm.process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(jvm.log.toFile()))
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .start();
    processes.add(jvm);
    return jvm;
  }

  /**
   * An operator started as {@code sharedipc-operator run}, in a JVM of its own, logging to a file.
   */
  private static final class OperatorJvm {
    final Path log;
    final int port;
    Process process;

    OperatorJvm(Path log, int port) {
      this.log = log;
      this.port = port;
    }

    boolean ready() {
      assertThat(process.isAlive()).as("operator alive (log %s)", log).isTrue();
      try {
        return status(port, "/readyz") == 200;
      } catch (IOException e) {
        return false;
      }
    }

    String metrics() throws IOException {
      return LeaderElectionIT.metrics(port);
    }

    void kill() {
      process.destroyForcibly();
    }
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free port on 127.0.0.1", e);
    }
  }

  private static int status(int port, String path) throws IOException {
    try {
      return HTTP.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                  .timeout(Duration.ofSeconds(5))
                  .build(),
              HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  private static String metrics(int port) throws IOException {
    try {
      return HTTP.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                  .timeout(Duration.ofSeconds(5))
                  .build(),
              HttpResponse.BodyHandlers.ofString())
          .body();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }
}
