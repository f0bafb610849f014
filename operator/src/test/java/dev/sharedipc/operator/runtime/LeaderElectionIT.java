package dev.sharedipc.operator.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.api.Labels;
import dev.sharedipc.api.testing.RealApiServer;
import dev.sharedipc.operator.Fixtures;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Two operator replicas with leader election: one reconciles, the other takes over when it goes. */
class LeaderElectionIT {
  private final List<OperatorRuntime> runtimes = new ArrayList<>();
  private final List<KubernetesClient> clients = new ArrayList<>();

  @AfterEach
  void stop() {
    runtimes.forEach(OperatorRuntime::close);
    clients.forEach(KubernetesClient::close);
  }

  private OperatorRuntime replica(RealApiServer api, String leaseNamespace, String watched) throws IOException {
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
  void oneReplicaLeadsAndTheOtherTakesOverWhenItStops() throws Exception {
    RealApiServer api = RealApiServer.shared();
    KubernetesClient client = api.client();
    String leases = api.newNamespace("leases");
    String ns = api.newNamespace("led");
    OperatorRuntime first = replica(api, leases, ns);
    await().atMost(Duration.ofSeconds(30)).until(first::isStarted);
    OperatorRuntime second = replica(api, leases, ns);

    assertThat(client.leases().inNamespace(leases).withName(OperatorRuntime.LEASE_NAME).get()).isNotNull();
    assertThat(status(first, "/readyz")).isEqualTo(200);
    assertThat(status(second, "/readyz")).as("the follower is not ready while it does not lead").isEqualTo(503);
    assertThat(second.isStarted()).isFalse();

    client.resource(Fixtures.forCluster("led", 1, "64Mi")).inNamespace(ns).create();
    await().atMost(Duration.ofSeconds(30)).until(() -> !client.pods().inNamespace(ns).withLabel(Labels.GROUP, "led").list().getItems().isEmpty());

    first.close();
    runtimes.remove(first);
    await().atMost(Duration.ofSeconds(60)).until(second::isStarted);
    assertThat(status(second, "/readyz")).isEqualTo(200);
    client.resource(Fixtures.forCluster("after", 2, "64Mi")).inNamespace(ns).create();
    await().atMost(Duration.ofSeconds(30)).until(() -> client.pods().inNamespace(ns).withLabel(Labels.GROUP, "after").list().getItems().size() == 2);
    assertThat(client.pods().inNamespace(ns).list().getItems()).extracting(p -> p.getMetadata().getName())
        .containsExactlyInAnyOrderElementsOf(Set.of("led-0", "after-0", "after-1"));
  }

  private static int status(OperatorRuntime runtime, String path) throws Exception {
    return HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + runtime.httpPort() + path)).build(),
        HttpResponse.BodyHandlers.discarding()).statusCode();
  }
}
