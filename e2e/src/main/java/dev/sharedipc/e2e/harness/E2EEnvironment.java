package dev.sharedipc.e2e.harness;

import io.fabric8.kubernetes.api.model.AuthInfoBuilder;
import io.fabric8.kubernetes.api.model.Cluster;
import io.fabric8.kubernetes.api.model.ConfigBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.internal.KubeConfigUtils;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Everything the E2E scenarios share, once per test run, in one of two tiers.
 *
 * <p>The simulated tier (KWOK nodes): the local control plane (through {@code
 * scripts/local-cluster.sh}), the CRDs and the operator's RBAC installed from {@code deploy/}
 * exactly as a user installs them (minus its workloads, which KWOK would only pretend to run), and
 * the operator running from its jar as a process whose kubeconfig holds only a token of its
 * ServiceAccount: so every scenario also proves that deploy/'s RBAC is all the operator needs.
 *
 * <p>The real-node tier ({@code sharedipc.e2e.realNodes} &gt; 0, the {@code *RealNodeE2E} classes):
 * the same control plane with real nodes (QEMU guests with a kubelet and containerd, {@code
 * scripts/real-node.sh}) holding the images of {@code scripts/images.sh}, and the whole of {@code
 * deploy/} applied as the README says ({@code kubectl apply --server-side -k deploy/}): the
 * operator runs as its Deployment and the agent as its DaemonSet, in real containers.
 *
 * <p>Where the Kubernetes binaries cannot be had (not Linux, no Go to build them), the scenarios
 * are skipped with that reason, except under {@code CI=true}, where that is a failure. Anything
 * else that goes wrong while starting is a failure everywhere.
 */
public final class E2EEnvironment implements AutoCloseable {
  public static final String OPERATOR_NAMESPACE = "sharedipc-system";
  public static final String OPERATOR_SERVICE_ACCOUNT = "sharedipc-operator";
  public static final String AGENT_NAMESPACE = "sharedipc-agent";

  /** Kinds of deploy/ that are not installed: workloads, which KWOK would only pretend to run. */
  private static final Set<String> SKIPPED_KINDS = Set.of("Deployment", "DaemonSet", "StatefulSet");

  private static E2EEnvironment shared;
  private static String unavailable;
  private static RuntimeException failed;

  private final Path repo;
  private final Path logDir;
  private final boolean keepCluster;
  private final LocalControlPlane cluster;
  private final LocalControlPlane.Nodes nodes = LocalControlPlane.Nodes.fromSystemProperties();
  private Path binDir;
  private KubernetesClient admin;
  private Path operatorKubeconfig;

  /** The local operator process (simulated tier only; null in the real-node tier). */
  private OperatorProcess operator;

  private Path operatorJar;
  private boolean closed;

  private E2EEnvironment(Path repo, Path stateDir, Path logDir, boolean keepCluster) {
    this.repo = repo;
    this.logDir = logDir;
    this.keepCluster = keepCluster;
    this.cluster = new LocalControlPlane(repo, stateDir, logDir);
  }

  /** The environment of this test run, started on first use. */
  public static synchronized E2EEnvironment shared() {
    if (shared == null && unavailable == null && failed == null) {
      E2EEnvironment env =
          new E2EEnvironment(
              Repo.root(),
              Repo.path("sharedipc.e2e.clusterDir", "e2e/target/local-cluster"),
              Repo.path("sharedipc.e2e.logs", "e2e/target/e2e-logs"),
              Boolean.getBoolean("sharedipc.e2e.keepCluster"));
      try {
        env.start();
        shared = env;
      } catch (Unavailable e) {
        unavailable = e.getMessage();
      } catch (RuntimeException e) {
        failed = e;
        try {
          env.close();
        } catch (RuntimeException closing) {
          e.addSuppressed(closing);
        }
      }
    }
    if (failed != null) {
      throw new IllegalStateException(
          "the E2E environment did not start: " + failed.getMessage(), failed);
    }
    if (unavailable != null) {
      if ("true".equalsIgnoreCase(System.getenv("CI"))) {
        throw new IllegalStateException(
            unavailable + " (CI=true: the E2E scenarios must run, not skip)");
      }
      Assumptions.abort(unavailable);
    }
    return shared;
  }

  private void start() {
    long t0 = System.nanoTime();
    if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
      throw new Unavailable(
          "the local control plane runs on Linux only (this is "
              + System.getProperty("os.name")
              + ")");
    }
    Path jar = repo.resolve("operator/target/sharedipc-operator.jar");
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(
          "no "
              + jar
              + ": build the operator first (./mvnw verify builds it before e2e; "
              + "for this module alone: ./mvnw verify -pl e2e -am)");
    }
    clearOldLogs();
    Commands.Result binaries = cluster.ensureBinaries();
    if (!binaries.ok()) {
      throw new Unavailable(
          "the Kubernetes binaries could not be built by scripts/kube-binaries.sh (exit "
              + binaries.exitCode()
              + "): "
              + binaries.tail(5));
    }
    binDir = cluster.binDir();
    Runtime.getRuntime().addShutdownHook(new Thread(this::close, "e2e-environment-close"));
    if (!keepCluster) {
      // A clean slate: stop and delete whatever an interrupted earlier run left in this directory.
      cluster.down(true);
    }
    Commands.Result up = cluster.up(nodes);
    if (!up.ok() && nodes.real() > 0 && !"true".equalsIgnoreCase(System.getenv("CI"))) {
      throw new Unavailable(
          "the real nodes could not be started by scripts/local-cluster.sh up --real-nodes "
              + nodes.real()
              + " (exit "
              + up.exitCode()
              + "): "
              + up.tail(8));
    }
    up.orThrow("local-cluster.sh up");
    admin = client(cluster.kubeconfig());
    if (nodes.real() > 0) {
      installOnRealNodes();
      log(
          "environment ready in %.1f s: %d real node(s) %s, %d KWOK nodes; deploy/ applied, the"
              + " operator and the agent run in real containers",
          (System.nanoTime() - t0) / 1e9, nodes.real(), cluster.realNodeNames(), nodes.count());
      return;
    }
    installDeploy();
    // The garbage collector discovers resource types when it starts and then only every 30 s:
    // restarted now, it knows SharedIpcGroup at once, so deleting a group removes its pods at once.
    cluster.restart("kube-controller-manager");
    operatorKubeconfig = writeOperatorKubeconfig();
    operatorJar = snapshot(jar);
    operator = new OperatorProcess(operatorJar, operatorKubeconfig, logDir);
    operator.start();
    log(
        "environment ready in %.1f s: %d KWOK nodes, operator pid %d as ServiceAccount %s/%s (log %s)",
        (System.nanoTime() - t0) / 1e9,
        nodes.count(),
        operator.pid(),
        OPERATOR_NAMESPACE,
        OPERATOR_SERVICE_ACCOUNT,
        operator.log());
  }

  /**
   * A copy of the operator jar for this run: a build that rewrites operator/target meanwhile
   * (another terminal, an IDE) must not pull classes from under a running operator, and every
   * restart in a run must start the same code.
   */
  private Path snapshot(Path jar) {
    Path copy = logDir.resolveSibling("operator-under-test.jar");
    try {
      Files.copy(
          jar,
          copy,
          java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
      log(
          "operator under test: %s, built %s (copied to %s)",
          jar, Files.getLastModifiedTime(jar), copy);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy " + jar + " to " + copy, e);
    }
    return copy;
  }

  /** The logs of an earlier run would be mistaken for this one's. */
  private void clearOldLogs() {
    if (!Files.isDirectory(logDir)) {
      return;
    }
    try (java.util.stream.Stream<Path> files = Files.walk(logDir)) {
      files
          .sorted(java.util.Comparator.reverseOrder())
          .filter(p -> !p.equals(logDir))
          .forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot clear " + logDir, e);
    }
  }

  /** kubectl kustomize deploy/, applied server-side, without its workloads. */
  private void installDeploy() {
    String manifests =
        kubectl(List.of("kustomize", repo.resolve("deploy").toString()), Duration.ofMinutes(1))
            .orThrow("kubectl kustomize deploy/")
            .output();
    List<HasMetadata> items =
        admin.load(new ByteArrayInputStream(manifests.getBytes(StandardCharsets.UTF_8))).items();
    for (HasMetadata item : items) {
      if (SKIPPED_KINDS.contains(item.getKind())) {
        log(
            "not installing %s %s from deploy/: the operator runs as a local process",
            item.getKind(), item.getMetadata().getName());
        continue;
      }
      admin.resource(item).fieldManager("sharedipc-e2e").forceConflicts().serverSideApply();
    }
    items.stream()
        .filter(i -> i.getKind().equals("CustomResourceDefinition"))
        .forEach(
            crd ->
                admin
                    .apiextensions()
                    .v1()
                    .customResourceDefinitions()
                    .withName(crd.getMetadata().getName())
                    .waitUntilCondition(
                        c ->
                            c != null
                                && c.getStatus() != null
                                && c.getStatus().getConditions().stream()
                                    .anyMatch(
                                        cond ->
                                            "Established".equals(cond.getType())
                                                && "True".equals(cond.getStatus())),
                        60,
                        TimeUnit.SECONDS));
  }

  /**
   * The install of the README, verbatim ({@code kubectl apply --server-side -k deploy/}), then
   * waits as a user would ({@code kubectl rollout status}) for the operator's Deployment and the
   * agent's DaemonSet. The CRDs are applied with everything else, so the first apply may find a
   * SharedIpcPolicy-dependent object before its CRD is established: the apply is repeated then.
   */
  private void installOnRealNodes() {
    List<String> apply = List.of("apply", "--server-side", "-k", repo.resolve("deploy").toString());
    Commands.Result first = kubectl(apply, Duration.ofMinutes(2));
    if (!first.ok()) {
      log("kubectl apply -k deploy/ once more (the first: %s)", first.tail(3));
      kubectl(apply, Duration.ofMinutes(2)).orThrow("kubectl apply --server-side -k deploy/");
    }
    // The garbage collector discovers resource types when it starts and then only every 30 s.
    cluster.restart("kube-controller-manager");
    for (String workload :
        List.of(
            "deployment/sharedipc-operator -n " + OPERATOR_NAMESPACE,
            "daemonset/sharedipc-agent -n " + AGENT_NAMESPACE)) {
      List<String> args = new java.util.ArrayList<>(List.of("rollout", "status"));
      args.addAll(List.of(workload.split(" ")));
      args.add("--timeout=15m");
      Commands.Result status = kubectl(args, Duration.ofMinutes(16));
      log("kubectl rollout status %s: %s", workload, status.tail(1));
      if (!status.ok()) {
        // No test namespace to dump yet: say here why the install did not come up.
        for (String ns : List.of(OPERATOR_NAMESPACE, AGENT_NAMESPACE)) {
          log(
              "kubectl describe pods -n %s:%n%s",
              ns, kubectl(List.of("describe", "pods", "-n", ns), Duration.ofMinutes(1)).output());
        }
      }
      status.orThrow("kubectl rollout status " + workload);
    }
  }

  /** A kubeconfig whose only credential is a token of the operator's ServiceAccount. */
  private Path writeOperatorKubeconfig() {
    String token =
        admin
            .serviceAccounts()
            .inNamespace(OPERATOR_NAMESPACE)
            .withName(OPERATOR_SERVICE_ACCOUNT)
            .tokenRequest(
                new TokenRequestBuilder()
                    .withNewSpec()
                    .withExpirationSeconds(4 * 3600L)
                    .endSpec()
                    .build())
            .getStatus()
            .getToken();
    return tokenKubeconfig(
        OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT, token, logDir.resolve("operator.kubeconfig"));
  }

  /**
   * Writes a kubeconfig for this cluster whose only credential is {@code token}, a token of the
   * ServiceAccount {@code namespace/serviceAccount} (readable by its owner only), and returns it.
   */
  public Path tokenKubeconfig(String namespace, String serviceAccount, String token, Path file) {
    try {
      io.fabric8.kubernetes.api.model.Config adminConfig =
          KubeConfigUtils.parseConfig(cluster.kubeconfig().toFile());
      Cluster server = adminConfig.getClusters().get(0).getCluster();
      io.fabric8.kubernetes.api.model.Config config =
          new ConfigBuilder()
              .addNewCluster()
              .withName("sharedipc-local")
              .withNewCluster()
              .withServer(server.getServer())
              .withCertificateAuthorityData(server.getCertificateAuthorityData())
              .endCluster()
              .endCluster()
              .addNewUser()
              .withName(serviceAccount)
              .withUser(new AuthInfoBuilder().withToken(token).build())
              .endUser()
              .addNewContext()
              .withName(serviceAccount)
              .withNewContext()
              .withCluster("sharedipc-local")
              .withUser(serviceAccount)
              .withNamespace(namespace)
              .endContext()
              .endContext()
              .withCurrentContext(serviceAccount)
              .build();
      Files.createDirectories(file.getParent());
      Files.writeString(file, Serialization.asYaml(config), StandardCharsets.UTF_8);
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot write the kubeconfig of " + namespace + "/" + serviceAccount + " to " + file, e);
    }
  }

  /** A client for the cluster as its admin (system:masters): for setup and assertions. */
  public KubernetesClient admin() {
    return admin;
  }

  /** A client with exactly the operator's credentials. */
  public KubernetesClient asOperator() {
    return client(operatorKubeconfig);
  }

  /** The operator jar this run uses (a copy of operator/target/sharedipc-operator.jar). */
  public Path operatorJar() {
    return operatorJar;
  }

  /**
   * The operator as a local process; in the real-node tier it is the Deployment in {@value
   * #OPERATOR_NAMESPACE}, and this is null.
   */
  public OperatorProcess operator() {
    return operator;
  }

  /** Whether this run has real nodes (the real-node tier). */
  public boolean realNodes() {
    return nodes.real() > 0;
  }

  public LocalControlPlane.Nodes nodes() {
    return nodes;
  }

  public LocalControlPlane cluster() {
    return cluster;
  }

  public Path logDir() {
    return logDir;
  }

  public Path repo() {
    return repo;
  }

  /**
   * Runs the kubectl of the binaries cache against this cluster (as admin unless --kubeconfig is
   * given).
   */
  public Commands.Result kubectl(List<String> args, Duration timeout) {
    List<String> command = new java.util.ArrayList<>();
    command.add(binDir.resolve("kubectl").toString());
    if (args.stream().noneMatch(a -> a.startsWith("--kubeconfig"))) {
      command.add("--kubeconfig=" + cluster.kubeconfig());
    }
    command.addAll(args);
    return Commands.run(command, Map.of(), logDir.resolve("kubectl.log"), false, timeout);
  }

  private static KubernetesClient client(Path kubeconfig) {
    try {
      Config config = Config.fromKubeconfig(Files.readString(kubeconfig, StandardCharsets.UTF_8));
      config.setRequestTimeout(30_000);
      // Named, not discovered: the test classpath also holds the agent's jar (CsiVolumeE2E's CSI
      // client) and with it
      // the JDK http client factory, and fabric8 would pick one of two equal candidates at random.
      return new KubernetesClientBuilder()
          .withConfig(config)
          .withHttpClientFactory(new io.fabric8.kubernetes.client.vertx.VertxHttpClientFactory())
          .build();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + kubeconfig, e);
    }
  }

  /**
   * Stops the operator and the control plane (keeping their logs); runs once, at the end of the
   * run.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      if (operator != null) {
        operator.stop();
      }
      if (admin != null) {
        admin.close();
      }
    } finally {
      cluster.keepLogs(logDir.resolve("cluster"));
      if (!keepCluster) {
        cluster.down(true);
      } else {
        log(
            "-Dsharedipc.e2e.keepCluster=true: the control plane keeps running; KUBECONFIG=%s",
            cluster.kubeconfig());
      }
    }
  }

  static void log(String format, Object... args) {
    System.err.println("[e2e] " + String.format(format, args));
  }

  /** The environment cannot exist on this machine (as opposed to: it broke). */
  private static final class Unavailable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Unavailable(String message) {
      super(message);
    }
  }
}
