package dev.sharedipc.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.api.RepoPaths;
import dev.sharedipc.api.testing.RealApiServer;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Every install, upgrade, switch and uninstall command that README.md, docs/install.md and the
 * chart's NOTES give runs here, verbatim (each is first looked up in its document, so the documents
 * cannot drift from what is tested), with bash from the repository root against the real API
 * server, with the kubectl of its binaries and the Helm of scripts/helm.sh on PATH.
 *
 * <p>The whole install goes in and out of the shared API server, CRDs included: the test starts
 * from a server without sharedipc's namespaces and leaves it with the CRDs of crds/ installed
 * again, as the other integration tests expect.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class InstallCommandsIT {
  private static final String RELEASE_NS = "sharedipc-system";
  private static final String AGENT_NS = "sharedipc-agent";
  private static final List<String> CRDS =
      List.of(
          "sharedipcgroups.sharedipc.dev",
          "sharedipcnodes.sharedipc.dev",
          "sharedipcpolicies.sharedipc.dev");

  private static RealApiServer api;
  private static KubernetesClient client;
  private static Path helm;
  private static Path kubeconfig;
  private static Path helmHome;

  @BeforeAll
  static void cleanSlate() throws IOException, InterruptedException {
    api = RealApiServer.shared();
    client = api.client();
    helm = HelmChartIT.ensureHelm();
    kubeconfig = api.writeKubeConfig(Files.createTempFile("install-commands-", ".kubeconfig"));
    helmHome = Files.createTempDirectory("install-commands-helm-");
    // Other tests (HelmChartIT's dry runs) may have made the install's namespaces.
    for (String ns : List.of(RELEASE_NS, AGENT_NS)) {
      client.namespaces().withName(ns).delete();
    }
    awaitNamespacesGone();
  }

  @AfterAll
  static void crdsBackForTheOtherTests() throws IOException {
    if (api != null) {
      await()
          .atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofMillis(500))
          .until(
              () ->
                  CRDS.stream()
                      .allMatch(
                          n ->
                              client
                                          .apiextensions()
                                          .v1()
                                          .customResourceDefinitions()
                                          .withName(n)
                                          .get()
                                      == null
                                  || client
                                          .apiextensions()
                                          .v1()
                                          .customResourceDefinitions()
                                          .withName(n)
                                          .get()
                                          .getMetadata()
                                          .getDeletionTimestamp()
                                      == null));
      api.installCrds();
      garbageCollectorKnowsTheGroupsAgain();
    }
  }

  /**
   * The garbage collector re-reads resource types only every 30 s: until it has seen the CRDs made
   * again, objects owned by a group are not collected, and later tests would wait on that. A probe
   * ConfigMap owned by a probe group goes once it has.
   */
  private static void garbageCollectorKnowsTheGroupsAgain() {
    String ns = api.newNamespace("gc-probe");
    var group =
        client
            .genericKubernetesResources("sharedipc.dev/v1alpha1", "SharedIpcGroup")
            .inNamespace(ns)
            .resource(probeGroup())
            .create();
    client
        .configMaps()
        .inNamespace(ns)
        .resource(
            new io.fabric8.kubernetes.api.model.ConfigMapBuilder()
                .withNewMetadata()
                .withName("owned")
                .addNewOwnerReference()
                .withApiVersion("sharedipc.dev/v1alpha1")
                .withKind("SharedIpcGroup")
                .withName(group.getMetadata().getName())
                .withUid(group.getMetadata().getUid())
                .endOwnerReference()
                .endMetadata()
                .build())
        .create();
    client.resource(group).inNamespace(ns).delete();
    await()
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> client.configMaps().inNamespace(ns).withName("owned").get() == null);
  }

  private static io.fabric8.kubernetes.api.model.GenericKubernetesResource probeGroup() {
    var group = new io.fabric8.kubernetes.api.model.GenericKubernetesResource();
    group.setApiVersion("sharedipc.dev/v1alpha1");
    group.setKind("SharedIpcGroup");
    group.setMetadata(
        new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("probe").build());
    group.setAdditionalProperty(
        "spec",
        java.util.Map.of(
            "sharedMemory",
            java.util.Map.of("size", "1Mi"),
            "members",
            List.of(
                java.util.Map.of(
                    "name",
                    "m",
                    "template",
                    java.util.Map.of(
                        "spec",
                        java.util.Map.of(
                            "containers",
                            List.of(java.util.Map.of("name", "m", "image", "busybox"))))))));
    return group;
  }

  @Test
  @Order(1)
  void kustomizeInstallSwitchToHelmAndBackThenUninstall() throws IOException, InterruptedException {
    String install = doc("docs/install.md");
    String readme = doc("README.md");

    // Install, and the same command as the upgrade.
    run(install, "kubectl apply --server-side --force-conflicts -k deploy/");
    assertThat(operator()).isNotNull();
    run(
        install,
        "kubectl apply --server-side --force-conflicts -k deploy/        # or your overlay with the new image tags");
    agentPodsCanBeEvicted();

    // kustomize -> Helm: the installed objects become the release's.
    run(
        install,
        "kubectl kustomize deploy/ | kubectl annotate -f - --overwrite meta.helm.sh/release-name=sharedipc meta.helm.sh/release-namespace=sharedipc-system");
    run(
        install,
        "kubectl kustomize deploy/ | kubectl label -f - --overwrite app.kubernetes.io/managed-by=Helm");
    run(install, "helm install sharedipc charts/sharedipc -n sharedipc-system");
    assertThat(operator().getMetadata().getLabels())
        .containsEntry("helm.sh/chart", "sharedipc-0.1.0");
    assertThat(run("helm list -n sharedipc-system -q")).contains("sharedipc");

    // Helm -> kustomize: the objects stay, Helm forgets its release.
    run(install, "kubectl apply --server-side --force-conflicts -k deploy/");
    run(install, "kubectl -n sharedipc-system delete secret -l owner=helm,name=sharedipc");
    assertThat(run("helm list -n sharedipc-system -q")).doesNotContain("sharedipc");
    assertThat(operator()).isNotNull();

    // Uninstall.
    run(install, "kubectl delete sipc --all -A");
    run(install, "kubectl delete -k deploy/");
    assertThat(operator()).isNull();
    awaitNamespacesGone();
    assertThat(readme).contains("kubectl apply --server-side --force-conflicts -k deploy/");
  }

  @Test
  @Order(
      2) // after the kustomize uninstall removed the CRDs: Helm installs them, as on a new cluster
  void helmInstallUpgradeAndUninstallAsDocumented() throws IOException, InterruptedException {
    String install = doc("docs/install.md");
    String readme = doc("README.md");
    awaitNamespacesGone();
    awaitCrdsSettled();

    // Install on the first try, as README and install.md say; the CRDs are Helm's now (field
    // manager "helm").
    String installCommand =
        "helm install sharedipc charts/sharedipc -n sharedipc-system --create-namespace";
    assertThat(readme).contains(installCommand);
    String notes = run(install, installCommand);
    String label =
        "kubectl label namespace sharedipc-system pod-security.kubernetes.io/enforce=restricted";
    assertThat(readme).contains(label);
    run(install, label);
    assertThat(client.namespaces().withName(RELEASE_NS).get().getMetadata().getLabels())
        .containsEntry("pod-security.kubernetes.io/enforce", "restricted");

    // The NOTES' own commands that need no running pods: the label, the reports, the CRD upgrade.
    run(notes, label);
    run(notes, "kubectl get sharedipcnodes");
    run(notes, "kubectl apply --server-side --force-conflicts -f crds/");

    // Upgrade: CRDs taken over from "helm", then the release with one more value.
    run(readme, "kubectl apply --server-side --force-conflicts -f crds/");
    run(install, "kubectl apply --server-side --force-conflicts -f charts/sharedipc/crds/");
    String upgrade =
        "helm upgrade sharedipc charts/sharedipc -n sharedipc-system --reset-then-reuse-values --set operator.logLevel=DEBUG";
    assertThat(readme).contains(upgrade);
    run(install, upgrade);
    assertThat(env(operator(), "SHAREDIPC_LOG_LEVEL")).isEqualTo("DEBUG");
    // A later upgrade that sets something else keeps what the last one set.
    run(
        "helm upgrade sharedipc charts/sharedipc -n sharedipc-system --reset-then-reuse-values --set operator.replicas=3");
    assertThat(operator().getSpec().getReplicas()).isEqualTo(3);
    assertThat(env(operator(), "SHAREDIPC_LOG_LEVEL")).isEqualTo("DEBUG");
    agentPodsCanBeEvicted();

    // Uninstall.
    run(install, "helm uninstall sharedipc -n sharedipc-system");
    assertThat(operator()).isNull();
    run(install, "kubectl delete namespace sharedipc-system");
    run(install, "kubectl delete -f charts/sharedipc/crds/");
    awaitNamespacesGone();
    awaitCrdsSettled();
    api.installCrds();
  }

  /**
   * No PodDisruptionBudget holds the agent: the Eviction API lets an agent pod go (a budget on
   * DaemonSet pods refused it).
   */
  private static void agentPodsCanBeEvicted() {
    String name = "agent-eviction-probe";
    client
        .pods()
        .inNamespace(AGENT_NS)
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .addToLabels("app.kubernetes.io/name", "sharedipc-agent")
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("c")
                .withImage("busybox:1.36")
                .endContainer()
                .endSpec()
                .build())
        .create();
    // The API server lets a pod that is not Running go regardless of budgets: make it Running and
    // Ready.
    client
        .pods()
        .inNamespace(AGENT_NS)
        .withName(name)
        .editStatus(
            p ->
                new PodBuilder(p)
                    .withNewStatus()
                    .withPhase("Running")
                    .addNewCondition()
                    .withType("Ready")
                    .withStatus("True")
                    .endCondition()
                    .endStatus()
                    .build());
    assertThat(client.pods().inNamespace(AGENT_NS).withName(name).evict())
        .as("eviction of an agent pod")
        .isTrue();
  }

  private static Deployment operator() {
    return client.apps().deployments().inNamespace(RELEASE_NS).withName("sharedipc-operator").get();
  }

  private static String env(Deployment deployment, String name) {
    return deployment.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
        .filter(e -> e.getName().equals(name))
        .map(EnvVar::getValue)
        .findFirst()
        .orElse(null);
  }

  private static void awaitNamespacesGone() {
    await()
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () ->
                client.namespaces().withName(RELEASE_NS).get() == null
                    && client.namespaces().withName(AGENT_NS).get() == null);
  }

  /** No CRD of ours is being deleted (a CRD in deletion cannot be created again). */
  private static void awaitCrdsSettled() {
    await()
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () ->
                CRDS.stream()
                    .allMatch(
                        n -> {
                          var crd =
                              client
                                  .apiextensions()
                                  .v1()
                                  .customResourceDefinitions()
                                  .withName(n)
                                  .get();
                          return crd == null || crd.getMetadata().getDeletionTimestamp() == null;
                        }));
  }

  private static String doc(String path) throws IOException {
    return Files.readString(RepoPaths.root().resolve(path));
  }

  /**
   * Runs {@code command} after checking that {@code document} gives it verbatim; returns its
   * stdout.
   */
  private static String run(String document, String command)
      throws IOException, InterruptedException {
    assertThat(document).as("the documentation gives the command verbatim").contains(command);
    return run(command);
  }

  private static String run(String command) throws IOException, InterruptedException {
    ProcessBuilder pb =
        new ProcessBuilder("bash", "-o", "pipefail", "-c", command)
            .directory(RepoPaths.root().toFile());
    pb.environment()
        .put(
            "PATH",
            api.kubectl().getParent() + ":" + helm.getParent() + ":" + System.getenv("PATH"));
    pb.environment().put("KUBECONFIG", kubeconfig.toString());
    for (String xdg : List.of("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME")) {
      pb.environment().put(xdg, helmHome.resolve(xdg).toString());
    }
    Process p = pb.start();
    CompletableFuture<String> err =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            });
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("%s finished", command).isTrue();
    assertThat(p.exitValue())
        .as("exit code of `%s`\nstdout:\n%s\nstderr:\n%s", command, out, err.join())
        .isZero();
    return out;
  }
}
