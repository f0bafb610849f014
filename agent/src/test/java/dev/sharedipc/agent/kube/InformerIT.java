package dev.sharedipc.agent.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sharedipc.agent.testing.AgentClients;
import dev.sharedipc.agent.testing.TcpGate;
import dev.sharedipc.api.testing.RealApiServer;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The agent's informer on a real API server: it lists, follows the watch, and after the server was
 * away it lists again, so what was deleted meanwhile leaves the cache and is told to listeners.
 */
class InformerIT {
  RealApiServer api;
  KubernetesClient admin;
  String namespace;
  Informer<String> informer;
  final List<String> told = new CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp() {
    api = RealApiServer.shared();
    admin = api.client();
    namespace = api.newNamespace("informer");
  }

  @AfterEach
  void tearDown() {
    if (informer != null) {
      informer.close();
    }
  }

  void configMap(String name, String value) {
    ConfigMap cm =
        new ConfigMapBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(namespace)
            .endMetadata()
            .withData(Map.of("v", value))
            .build();
    admin.configMaps().inNamespace(namespace).resource(cm).createOr(c -> c.update());
  }

  Informer<String> informer(KubeApi kube) {
    return new Informer<>(
            kube,
            "configmaps",
            "/api/v1/configmaps",
            "metadata.namespace=" + namespace,
            Informer::namespacedName,
            o -> o.path("data").path("v").asText())
        .listen(
            new Informer.Listener() {
              @Override
              public void changed(JsonNode object) {
                told.add(
                    "changed "
                        + object.path("metadata").path("name").asText()
                        + "="
                        + object.path("data").path("v").asText());
              }

              @Override
              public void deleted(String key) {
                told.add("deleted " + key);
              }
            });
  }

  @Test
  void itListsFollowsTheWatchAndListsAgainAfterTheServerWasAway() throws Exception {
    configMap("a", "1");
    configMap("b", "1");
    try (TcpGate gate = AgentClients.gateInFrontOf(api)) {
      gate.open();
      String gated = AgentClients.kubeconfigThrough(api, gate);
      informer = informer(KubeApi.fromKubeconfig(gated)).start();

      await().atMost(Duration.ofSeconds(30)).until(() -> informer.isWatching());
      assertThat(informer.hasSynced()).isTrue();
      assertThat(informer.get(namespace + "/a")).isEqualTo("1");
      assertThat(told).containsExactlyInAnyOrder("changed a=1", "changed b=1");
      assertThat(informer.list()).as("only the namespace of the field selector").hasSize(2);

      configMap("a", "2");
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> "2".equals(informer.get(namespace + "/a")));
      assertThat(told).contains("changed a=2");

      // the server goes away; meanwhile b is deleted and c created
      gate.refuse();
      await().atMost(Duration.ofSeconds(30)).until(() -> !informer.isWatching());
      admin.configMaps().inNamespace(namespace).withName("b").delete();
      configMap("c", "1");
      assertThat(informer.get(namespace + "/b"))
          .as("the cache keeps its contents while the server is away")
          .isEqualTo("1");

      gate.open();
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () -> {
                assertThat(informer.isWatching()).isTrue();
                assertThat(informer.get(namespace + "/b")).isNull();
                assertThat(informer.get(namespace + "/c")).isEqualTo("1");
              });
      assertThat(told).contains("deleted " + namespace + "/b", "changed c=1");
      assertThat(informer.stopped()).isFalse();
    }
    informer.close();
    await().atMost(Duration.ofSeconds(10)).until(() -> informer.stopped());
  }

  /**
   * An informer closed just as it has listed, while its watch is opening, stops: a socket read does
   * not end on an interrupt, so a watch that opens after close() looked for one to close is closed
   * by the informer itself (ServeIT's unhealthy-informer test once waited 10 s for this in vain).
   */
  @Test
  void anInformerClosedWhileItsWatchOpensStops() {
    configMap("a", "1");
    KubeApi kube = AgentClients.of(api);
    for (int i = 0; i < 25; i++) {
      Informer<String> one = informer(kube).start();
      await().atMost(Duration.ofSeconds(30)).until(one::hasSynced);
      one.close();
      await("informer " + i + " stopped").atMost(Duration.ofSeconds(5)).until(one::stopped);
    }
  }

  @Test
  void aCallTheServerRefusesSaysWhyWithItsCode() {
    KubeApi kube = AgentClients.of(api);
    assertThat(kube.get("/api/v1/namespaces/" + namespace + "/configmaps/none")).isNull();
    ApiException refused =
        org.assertj.core.api.Assertions.catchThrowableOfType(
            ApiException.class,
            () ->
                kube.create(
                    "/api/v1/namespaces/" + namespace + "/configmaps",
                    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"Not_A_Name\"}}"));
    assertThat(refused.code()).isEqualTo(422);
    assertThat(refused.getMessage()).contains("POST", "configmaps", "Not_A_Name");
  }

  @Test
  void aWatchSilentForLongerThanAllowedIsOpenedAgain() throws Exception {
    configMap("a", "1");
    try (TcpGate gate = AgentClients.gateInFrontOf(api)) {
      gate.open();
      String gated = AgentClients.kubeconfigThrough(api, gate);
      informer = informer(KubeApi.fromKubeconfig(gated)).silentAfter(Duration.ofSeconds(2)).start();
      await().atMost(Duration.ofSeconds(30)).until(() -> informer.isWatching());

      // the connection stays open and carries nothing: no reset, no end of stream
      gate.stall();
      configMap("a", "2");
      await("the silent watch is given up")
          .atMost(Duration.ofSeconds(30))
          .until(() -> !informer.isWatching());
      assertThat(informer.stopped()).as("given up, not stopped").isFalse();

      gate.open();
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () -> {
                assertThat(informer.isWatching()).isTrue();
                assertThat(informer.get(namespace + "/a")).isEqualTo("2");
              });
    }
  }
}
