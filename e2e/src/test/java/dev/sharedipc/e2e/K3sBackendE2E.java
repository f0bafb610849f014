package dev.sharedipc.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.e2e.harness.OperatorProcess;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The k3s backend: a real single-node k3s (with a real kubelet and container runtime) through
 * Testcontainers, where a Docker engine exists. The CRDs and the operator's RBAC are installed from
 * crds/ and deploy/, the operator runs from its jar, and the market-data sample must go Ready with
 * its pods really running. Selected by {@code -Dsharedipc.e2e.backend=k3s|local|auto} (default
 * auto: run where Docker answers, otherwise skip saying so); with {@code k3s} a missing Docker
 * engine is a failure. Needs the network to pull rancher/k3s and busybox.
 */
class K3sBackendE2E {
  static final String K3S_IMAGE =
      System.getProperty("sharedipc.e2e.k3sImage", "rancher/k3s:v1.34.1-k3s1");
  private static K3sContainer k3s;
  private static KubernetesClient client;
  private static OperatorProcess operator;

  /**
   * Why the backend does not run here, or null when it does; reported by each test as its skip
   * reason.
   */
  private static String notRunning;

  @BeforeAll
  static void startK3s() throws IOException {
    String backend = System.getProperty("sharedipc.e2e.backend", "auto").toLowerCase(Locale.ROOT);
    if (backend.equals("local")) {
      notRunning = "-Dsharedipc.e2e.backend=local: the k3s backend is not selected";
      return;
    }
    boolean docker = DockerClientFactory.instance().isDockerAvailable();
    if (!docker && backend.equals("k3s")) {
      throw new IllegalStateException(
          "-Dsharedipc.e2e.backend=k3s but no Docker engine answers here");
    }
    if (!docker) {
      // Skipped per test (not here) so that the skip shows in the counts with its reason.
      notRunning =
          "no Docker engine on this machine: the k3s backend runs only where Docker does"
              + " (./mvnw verify -pl e2e -am -Dsharedipc.e2e.backend=k3s); the local control plane scenarios cover this run";
      return;
    }
    k3s =
        new K3sContainer(DockerImageName.parse(K3S_IMAGE).asCompatibleSubstituteFor("rancher/k3s"));
    k3s.start();
    Path root = repoRoot();
    Path kubeconfig = Files.createTempFile("k3s-", ".kubeconfig");
    Files.writeString(kubeconfig, k3s.getKubeConfigYaml());
    client =
        new KubernetesClientBuilder()
            .withConfig(Config.fromKubeconfig(k3s.getKubeConfigYaml()))
            .build();
    apply(root.resolve("crds"));
    client
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName("sharedipc-system")
                .endMetadata()
                .build())
        .serverSideApply();
    try (InputStream in = Files.newInputStream(root.resolve("deploy/operator-rbac.yaml"))) {
      client.load(in).items().forEach(o -> client.resource(o).forceConflicts().serverSideApply());
    }
    Path jar =
        Files.copy(
            root.resolve("operator/target/sharedipc-operator.jar"),
            Files.createTempFile("operator-", ".jar"),
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    operator = new OperatorProcess(jar, kubeconfig, root.resolve("e2e/target/e2e-logs/k3s"));
    operator.start();
  }

  @AfterAll
  static void stop() {
    if (operator != null) {
      operator.stop();
    }
    if (client != null) {
      client.close();
    }
    if (k3s != null) {
      k3s.stop();
    }
  }

  @Test
  void marketDataSampleRunsOnK3s() throws IOException {
    Assumptions.assumeTrue(notRunning == null, notRunning);
    String ns = "k3s-" + Long.toString(System.nanoTime() % 1_000_000, 36);
    client
        .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
        .create();
    try (InputStream in =
        Files.newInputStream(repoRoot().resolve("samples/market-data-samepod.yaml"))) {
      client.load(in).inNamespace(ns).create();
    }
    await()
        .atMost(Duration.ofMinutes(5))
        .pollInterval(Duration.ofSeconds(2))
        .untilAsserted(
            () -> {
              var group =
                  client
                      .genericKubernetesResources("sharedipc.dev/v1alpha1", "SharedIpcGroup")
                      .inNamespace(ns)
                      .withName("market-data")
                      .get();
              assertThat(group.get("status", "readyInstances").toString()).isEqualTo("2");
            });
    assertThat(client.pods().inNamespace(ns).list().getItems())
        .hasSize(2)
        .allSatisfy(p -> assertThat(p.getStatus().getPhase()).isEqualTo("Running"));
  }

  private static void apply(Path dir) throws IOException {
    List<Path> files;
    try (Stream<Path> list = Files.list(dir)) {
      files = list.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
    }
    for (Path file : files) {
      try (InputStream in = Files.newInputStream(file)) {
        for (HasMetadata item : client.load(in).items()) {
          client.resource(item).forceConflicts().serverSideApply();
        }
      }
    }
  }

  private static Path repoRoot() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.exists(dir.resolve("mvnw"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("no mvnw above " + Path.of("").toAbsolutePath());
    }
    return dir;
  }
}
