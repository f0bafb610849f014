package dev.sharedipc.api.testing;

import dev.sharedipc.api.RepoPaths;
import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * One real kube-apiserver + etcd (fabric8 kube-api-test) per test JVM, shared by every integration
 * test of a module, with the CRDs of {@code crds/} installed, and a real kube-controller-manager
 * running only its garbage collector and namespace controllers, so that ownerReferences and
 * namespace deletion behave as in a cluster. Tests isolate themselves with {@link
 * #newNamespace(String)}.
 *
 * <p>The binaries are built from Go modules by {@code scripts/kube-binaries.sh} into a cache
 * outside the repository; when they are missing this runs that script first (the first build takes
 * minutes). Where they cannot be had, the test is skipped with the reason, except under {@code
 * CI=true}, where a missing API server is a failure: nothing skips silently in CI.
 */
public final class RealApiServer {
  private static RealApiServer shared;
  private static String unavailableReason;

  private static final String[] COMPONENTS = {
    "etcd", "kube-apiserver", "kubectl", "kube-controller-manager"
  };

  private final KubeAPIServer server;
  private final String kubeConfigYaml;
  private final Path binDir;
  private Process controllerManager;
  private final KubernetesClient client;
  private final AtomicInteger namespaces = new AtomicInteger();

  private RealApiServer(KubeAPIServer server, Path binDir) {
    this.server = server;
    this.binDir = binDir;
    this.kubeConfigYaml = server.getKubeConfigYaml();
    this.client = newClient();
  }

  /**
   * The shared server, started on first use; skips (or, in CI, fails) the test when it cannot
   * start.
   */
  public static synchronized RealApiServer shared() {
    if (shared == null && unavailableReason == null) {
      try {
        shared = start();
      } catch (RuntimeException | IOException | InterruptedException e) {
        unavailableReason = "no real kube-apiserver: " + e;
        System.err.println("[sharedipc] " + unavailableReason);
        e.printStackTrace();
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
      }
    }
    if (shared == null) {
      if ("true".equalsIgnoreCase(System.getenv("CI"))) {
        throw new IllegalStateException(
            unavailableReason + " (CI=true: integration tests must run, not skip)");
      }
      Assumptions.abort(unavailableReason);
    }
    return shared;
  }

  private static RealApiServer start() throws IOException, InterruptedException {
    String version = System.getProperty("sharedipc.kube.version");
    if (version == null || version.isBlank()) {
      throw new IllegalStateException(
          "no sharedipc.kube.version: run the integration tests through Maven "
              + "(the parent pom's kube.version is the one place that names it) or pass -Dsharedipc.kube.version=1.37.2");
    }
    Path testDir =
        Path.of(
            System.getProperty(
                "sharedipc.kube.api.test.dir",
                System.getProperty("user.home") + "/.cache/sharedipc/kube-api-test"));
    ensureBinaries(version, testDir);
    KubeAPIServer server =
        new KubeAPIServer(
            KubeAPIServerConfigBuilder.anAPIServerConfig()
                .withTestDir(testDir.toString())
                .withApiServerVersion(version)
                .withOfflineMode(true)
                .withUpdateKubeConfig(false)
                .withStartupTimeout(120_000)
                .withApiServerFlag("--bind-address", "127.0.0.1")
                .build());
    server.start();
    Runtime.getRuntime().addShutdownHook(new Thread(server::stop, "kube-api-test-stop"));
    RealApiServer api = new RealApiServer(server, binDir(version, testDir));
    // CRDs first: the garbage collector learns resource types at start (and only every 30 s after).
    api.installCrds();
    api.startControllerManager(binDir(version, testDir));
    return api;
  }

  private static Path binDir(String version, Path testDir) {
    return testDir.resolve("k8s").resolve(version + "-linux-" + goArch());
  }

  /** Runs scripts/kube-binaries.sh when a binary is not in the cache yet. */
  private static void ensureBinaries(String version, Path testDir)
      throws IOException, InterruptedException {
    Path binDir = binDir(version, testDir);
    if (java.util.Arrays.stream(COMPONENTS).allMatch(c -> Files.isExecutable(binDir.resolve(c)))) {
      return;
    }
    Path script = RepoPaths.root().resolve("scripts/kube-binaries.sh");
    System.err.println(
        "[sharedipc] "
            + binDir
            + " has no kube-apiserver/etcd/kubectl yet: running "
            + script
            + " (the first build takes 10-20 minutes on 2 cores)");
    List<String> command = new java.util.ArrayList<>(List.of("bash", script.toString(), "ensure"));
    command.addAll(List.of(COMPONENTS));
    ProcessBuilder pb = new ProcessBuilder(command).inheritIO();
    pb.environment().put("SHAREDIPC_K8S_VERSION", "v" + version);
    pb.environment().put("KUBE_API_TEST_DIR", testDir.toString());
    Process build = pb.start();
    if (!build.waitFor(60, TimeUnit.MINUTES)) {
      build.destroyForcibly();
      throw new IllegalStateException(script + " did not finish within 60 minutes");
    }
    if (build.exitValue() != 0) {
      throw new IllegalStateException(
          script + " failed with exit code " + build.exitValue() + " (its output is above)");
    }
  }

  private static String goArch() {
    String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
    return arch.equals("aarch64") || arch.equals("arm64") ? "arm64" : "amd64";
  }

  /**
   * Starts kube-controller-manager with only the garbage collector and namespace controllers, on
   * loopback, serving nothing; its output goes to target/kube-controller-manager.log.
   */
  private void startControllerManager(Path binDir) throws IOException {
    Path kubeconfig = Files.createTempFile("kcm-", ".kubeconfig");
    Files.writeString(kubeconfig, kubeConfigYaml);
    Path log = Path.of("target", "kube-controller-manager.log").toAbsolutePath();
    Files.createDirectories(log.getParent());
    controllerManager =
        new ProcessBuilder(
                binDir.resolve("kube-controller-manager").toString(),
                "--kubeconfig=" + kubeconfig,
                "--controllers=garbagecollector,namespace",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                "--secure-port=0",
                "--concurrent-gc-syncs=5",
                "--v=1")
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  controllerManager.destroy();
                  try {
                    if (!controllerManager.waitFor(10, TimeUnit.SECONDS)) {
                      controllerManager.destroyForcibly();
                    }
                  } catch (InterruptedException e) {
                    controllerManager.destroyForcibly();
                    Thread.currentThread().interrupt();
                  }
                },
                "kube-controller-manager-stop"));
  }

  /** Installs every CRD in crds/ and waits until each is Established. */
  public void installCrds() throws IOException {
    Path crds = RepoPaths.root().resolve("crds");
    List<Path> files;
    try (Stream<Path> list = Files.list(crds)) {
      files = list.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
    }
    for (Path file : files) {
      try (InputStream in = Files.newInputStream(file)) {
        for (HasMetadata item : client.load(in).items()) {
          CustomResourceDefinition crd = (CustomResourceDefinition) item;
          client.resource(crd).forceConflicts().serverSideApply();
          client
              .apiextensions()
              .v1()
              .customResourceDefinitions()
              .withName(crd.getMetadata().getName())
              .waitUntilCondition(
                  c ->
                      c != null
                          && c.getStatus() != null
                          && c.getStatus().getConditions() != null
                          && c.getStatus().getConditions().stream()
                              .anyMatch(
                                  cond ->
                                      "Established".equals(cond.getType())
                                          && "True".equals(cond.getStatus())),
                  60,
                  TimeUnit.SECONDS);
        }
      }
    }
  }

  /**
   * Writes as an older CRD without some of today's rules let users write: an object a rule added
   * later refuses, stored before the upgrade that added it. The rules of CRD {@code crdName} whose
   * CEL contains {@code ruleText} are taken out of the installed CRD, {@code write} is retried
   * until the API server takes it (a CRD change reaches the server's handler within moments), and
   * the CRDs of crds/ are installed again. Returns what {@code write} returned.
   */
  public <T> T writtenUnderAnOlderCrd(
      String crdName, String ruleText, java.util.function.Supplier<T> write) throws IOException {
    CustomResourceDefinition crd =
        client.apiextensions().v1().customResourceDefinitions().withName(crdName).get();
    java.util.Map<String, Object> tree =
        io.fabric8.kubernetes.client.utils.Serialization.jsonMapper()
            .convertValue(crd, new com.fasterxml.jackson.core.type.TypeReference<>() {});
    if (!withoutRules(tree, ruleText)) {
      throw new IllegalArgumentException(
          "no rule of CRD " + crdName + " contains " + ruleText + ": nothing to take out");
    }
    client
        .resource(
            io.fabric8.kubernetes.client.utils.Serialization.jsonMapper()
                .convertValue(tree, CustomResourceDefinition.class))
        .update();
    try {
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (true) {
        try {
          return write.get();
        } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
          if (e.getCode() != 422 || System.nanoTime() > deadline) {
            throw e;
          }
          Thread.sleep(200);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while writing under an older CRD", e);
    } finally {
      installCrds();
    }
  }

  /** Removes, anywhere in the tree, the x-kubernetes-validations whose rule contains text. */
  @SuppressWarnings("unchecked")
  private static boolean withoutRules(Object node, String text) {
    boolean removed = false;
    if (node instanceof java.util.Map<?, ?> map) {
      Object rules = map.get("x-kubernetes-validations");
      if (rules instanceof List<?> list) {
        removed =
            ((List<Object>) list)
                .removeIf(
                    r ->
                        String.valueOf(((java.util.Map<String, Object>) r).get("rule"))
                            .contains(text));
      }
      for (Object child : map.values()) {
        removed |= withoutRules(child, text);
      }
    } else if (node instanceof List<?> list) {
      for (Object child : list) {
        removed |= withoutRules(child, text);
      }
    }
    return removed;
  }

  /** A new client for this server (each caller closes its own). */
  public KubernetesClient newClient() {
    Config config = Config.fromKubeconfig(kubeConfigYaml);
    config.setRequestTimeout((int) Duration.ofSeconds(30).toMillis());
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  /** A shared client for quick reads and writes in tests. */
  public KubernetesClient client() {
    return client;
  }

  /** The kubectl next to the API server binaries (kube-api-test needs one there too). */
  public Path kubectl() {
    return binDir.resolve("kubectl");
  }

  public String kubeConfigYaml() {
    return kubeConfigYaml;
  }

  /** Writes the kubeconfig to a file, for processes and kubectl. */
  public Path writeKubeConfig(Path file) throws IOException {
    Files.writeString(file, kubeConfigYaml);
    return file;
  }

  /**
   * Creates a fresh namespace; kube-api-test runs no namespace controller, so none is ever reused.
   */
  public String newNamespace(String prefix) {
    String name =
        (prefix
                + "-"
                + namespaces.incrementAndGet()
                + "-"
                + Long.toString(System.nanoTime() % 1_000_000, 36))
            .toLowerCase(Locale.ROOT);
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
        .create();
    return name;
  }
}
