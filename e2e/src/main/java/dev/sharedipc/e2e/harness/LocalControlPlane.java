package dev.sharedipc.e2e.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The local control plane of {@code scripts/local-cluster.sh} (etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler, KWOK nodes, on 127.0.0.1), in a state directory of its
 * own so that the tests never touch a developer's cluster in {@code target/local-cluster}. Every
 * action goes through the script, so the tests exercise the same entry point people use.
 */
public final class LocalControlPlane {
  /** The binaries the control plane needs; kube-binaries.sh builds the missing ones. */
  public static final List<String> BINARIES =
      List.of(
          "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "kubectl");

  private final Path repo;
  private final Path stateDir;
  private final Path logDir;
  private final List<Outage> apiServerRestarts = new ArrayList<>();

  public LocalControlPlane(Path repo, Path stateDir, Path logDir) {
    this.repo = repo;
    this.stateDir = stateDir;
    this.logDir = logDir;
  }

  /**
   * Runs {@code kube-binaries.sh ensure} for every binary: about 10 ms when they are cached, a
   * build from Go modules (minutes) on a fresh machine; its progress is echoed.
   */
  public Commands.Result ensureBinaries() {
    List<String> command =
        new ArrayList<>(
            List.of("bash", repo.resolve("scripts/kube-binaries.sh").toString(), "ensure"));
    command.addAll(BINARIES);
    return Commands.run(
        command, binariesEnv(), logDir.resolve("kube-binaries.log"), true, Duration.ofMinutes(60));
  }

  /** The directory of the built binaries (kubectl among them). */
  public Path binDir() {
    String out =
        Commands.run(
                List.of("bash", repo.resolve("scripts/kube-binaries.sh").toString(), "path"),
                binariesEnv(),
                logDir.resolve("kube-binaries.log"),
                false,
                Duration.ofSeconds(30))
            .orThrow("kube-binaries.sh path")
            .output();
    String[] lines = out.strip().split("\n");
    return Path.of(lines[lines.length - 1].strip());
  }

  /**
   * {@code local-cluster.sh up --nodes N ... --real-nodes R}: returns when every node is Ready.
   * Real nodes are QEMU guests (scripts/real-node.sh): the first ever takes ~10 minutes to set up
   * (guest image, kubelet, container images), a warm one 2-3 minutes under TCG.
   */
  public Commands.Result up(Nodes nodes) {
    return script(
        nodes.real() > 0 ? Duration.ofMinutes(40) : Duration.ofMinutes(10),
        "up",
        "--nodes",
        Integer.toString(nodes.count()),
        "--node-cpu",
        nodes.cpu(),
        "--node-memory",
        nodes.memory(),
        "--node-pods",
        Integer.toString(nodes.pods()),
        "--real-nodes",
        Integer.toString(nodes.real()));
  }

  /**
   * How many simulated (KWOK) nodes and the capacity of each, and how many real nodes (QEMU guests
   * with a kubelet and containerd) beside them.
   */
  public record Nodes(int count, String cpu, String memory, int pods, int real) {
    /**
     * From the system properties sharedipc.e2e.nodes, .nodeCpu, .nodeMemory, .nodePods (3 x 8 /
     * 32Gi / 110) and sharedipc.e2e.realNodes (0).
     */
    public static Nodes fromSystemProperties() {
      return new Nodes(
          Integer.getInteger("sharedipc.e2e.nodes", 3),
          System.getProperty("sharedipc.e2e.nodeCpu", "8"),
          System.getProperty("sharedipc.e2e.nodeMemory", "32Gi"),
          Integer.getInteger("sharedipc.e2e.nodePods", 110),
          Integer.getInteger("sharedipc.e2e.realNodes", 0));
    }
  }

  /** The real nodes' names ({@code real-node.sh names}), in the order they were made. */
  public List<String> realNodeNames() {
    String out =
        script(Duration.ofSeconds(30), "real-node", "names")
            .orThrow("local-cluster.sh real-node names")
            .output();
    return out.lines().map(String::strip).filter(l -> l.matches("[a-z0-9][a-z0-9.-]*")).toList();
  }

  /**
   * Runs {@code command} as root on real node {@code node}, in all the node's namespaces (through
   * {@code real-node.sh exec}, a node shell pod), and returns what it printed.
   */
  public Commands.Result onRealNode(String node, Duration timeout, String... command) {
    List<String> args = new ArrayList<>(List.of("real-node", "exec", node, "--"));
    args.addAll(List.of(command));
    return script(timeout, args.toArray(String[]::new));
  }

  /** {@code local-cluster.sh down}, or {@code down --purge} to also delete the state directory. */
  public void down(boolean purge) {
    if (purge) {
      script(Duration.ofMinutes(2), "down", "--purge").orThrow("local-cluster.sh down --purge");
    } else {
      script(Duration.ofMinutes(2), "down").orThrow("local-cluster.sh down");
    }
  }

  /** Stops and starts one component (e.g. kube-apiserver), returning when it is healthy again. */
  public void restart(String component) {
    Instant stopping = Instant.now();
    try {
      script(Duration.ofMinutes(3), "restart", component)
          .orThrow("local-cluster.sh restart " + component);
    } finally {
      if (component.equals("kube-apiserver")) {
        synchronized (this) {
          apiServerRestarts.add(new Outage(stopping, Instant.now()));
        }
      }
    }
  }

  /**
   * From the moment a restart of the API server began to the moment its {@code /readyz} answered
   * (the script waits for it), in the order they happened.
   */
  public synchronized List<Outage> apiServerRestarts() {
    return List.copyOf(apiServerRestarts);
  }

  /** A span of time during which a component was not (yet) serving as it should. */
  public record Outage(Instant from, Instant to) {
    /** Whether the instant lies in the outage, or at most {@code slack} after its end. */
    public boolean covers(Instant t, Duration slack) {
      return !t.isBefore(from) && !t.isAfter(to.plus(slack));
    }
  }

  public Commands.Result status() {
    return script(Duration.ofMinutes(1), "status");
  }

  public Path kubeconfig() {
    return stateDir.resolve("kubeconfig");
  }

  public Path stateDir() {
    return stateDir;
  }

  /** Copies the components' logs next to the test logs (before a purge deletes them). */
  public void keepLogs(Path into) {
    Path logs = stateDir.resolve("logs");
    if (!Files.isDirectory(logs)) {
      return;
    }
    try {
      Files.createDirectories(into);
      try (Stream<Path> files = Files.list(logs)) {
        for (Path f : (Iterable<Path>) files::iterator) {
          Files.copy(
              f, into.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy " + logs + " to " + into, e);
    }
  }

  private Commands.Result script(Duration timeout, String... args) {
    List<String> command =
        new ArrayList<>(List.of("bash", repo.resolve("scripts/local-cluster.sh").toString()));
    command.addAll(List.of(args));
    Map<String, String> env = new java.util.HashMap<>(binariesEnv());
    env.put("SHAREDIPC_CLUSTER_DIR", stateDir.toString());
    return Commands.run(command, env, logDir.resolve("local-cluster.log"), true, timeout);
  }

  /**
   * The Kubernetes version and binaries cache of the build (the parent pom's kube.version and
   * kube.api.test.dir, passed by failsafe), so that the scripts and the integration tests agree.
   */
  private static Map<String, String> binariesEnv() {
    Map<String, String> env = new java.util.HashMap<>();
    String version = System.getProperty("sharedipc.kube.version");
    if (version != null && !version.isBlank()) {
      env.put("SHAREDIPC_K8S_VERSION", "v" + version.replaceFirst("^v", ""));
    }
    String dir = System.getProperty("sharedipc.kube.api.test.dir");
    if (dir != null && !dir.isBlank()) {
      env.put("KUBE_API_TEST_DIR", dir);
    }
    return env;
  }
}
