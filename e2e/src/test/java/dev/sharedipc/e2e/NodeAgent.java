package dev.sharedipc.e2e;

import dev.sharedipc.agent.testing.ReadableProc;
import dev.sharedipc.e2e.harness.E2EEnvironment;
import dev.sharedipc.e2e.harness.Ports;
import dev.sharedipc.e2e.harness.Processes;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The node agent of one KWOK node, run on this host as a process from a copy of {@code
 * agent/target/sharedipc-agent.jar}, as {@code demo.sh} runs it: with a token of the {@code
 * sharedipc-agent} ServiceAccount bound to a pod of that ServiceAccount on the node (the E2E
 * environment does not install deploy/'s DaemonSet, so this makes the one pod KWOK would "run"
 * there), so that the API server puts the node's name in the request and deploy/'s admission policy
 * lets the agent write that node's SharedIpcNode, and deploy/'s agent RBAC is all it has. {@link
 * #close()} stops the process and deletes the pod.
 */
final class NodeAgent implements AutoCloseable {
  static final String NAMESPACE = "sharedipc-agent";
  static final String SERVICE_ACCOUNT = "sharedipc-agent";

  /** The JVM flags of agent/bin/sharedipc-agent. */
  private static final List<String> JVM =
      List.of(
          "-XX:+UseSerialGC",
          "-Xms16m",
          "-Xmx48m",
          "-Xss256k",
          "-XX:MaxMetaspaceSize=48m",
          "-XX:ReservedCodeCacheSize=24m",
          "-XX:TieredStopAtLevel=1",
          "-XX:CICompilerCount=1",
          "-XX:MaxDirectMemorySize=8m",
          "-Djna.nosys=true");

  private final E2EEnvironment env;
  private final String node;
  private final String podName;
  private final Path log;
  private Process process;
  private String httpAddress;

  /**
   * Starts the agent for {@code node}, discovering IPC namespaces under {@code procRoot}, with
   * {@code workDir} for its kubeconfig, shared root and kubelet root.
   */
  static NodeAgent start(E2EEnvironment env, String node, Path procRoot, Path workDir, String label)
      throws Exception {
    return start(env, node, procRoot, workDir, label, List.of());
  }

  /**
   * As {@link #start(E2EEnvironment, String, Path, Path, String)}, with more options of {@code
   * serve} (e.g. {@code --host-shm DIR}).
   */
  static NodeAgent start(
      E2EEnvironment env,
      String node,
      Path procRoot,
      Path workDir,
      String label,
      List<String> moreOptions)
      throws Exception {
    Path jar = env.repo().resolve("agent/target/sharedipc-agent.jar");
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(
          "no " + jar + ": build the agent first (./mvnw -pl agent -am package -DskipTests)");
    }
    NodeAgent agent =
        new NodeAgent(
            env, node, "e2e-agent-" + label, env.logDir().resolve("agent-" + label + ".log"));
    try {
      agent.run(jar, procRoot, workDir, moreOptions);
    } catch (Exception | Error e) {
      agent.close();
      throw e;
    }
    return agent;
  }

  private NodeAgent(E2EEnvironment env, String node, String podName, Path log) {
    this.env = env;
    this.node = node;
    this.podName = podName;
    this.log = log;
  }

  private void run(Path jar, Path procRoot, Path workDir, List<String> moreOptions)
      throws Exception {
    Path kubeconfig =
        serviceAccountKubeconfig(env, node, podName, workDir.resolve("agent.kubeconfig"));
    Path sharedRoot = Files.createDirectories(workDir.resolve("shared-root"));
    Path kubeletRoot = Files.createDirectories(workDir.resolve("kubelet-root"));
    // A copy: a build that rewrites agent/target meanwhile must not pull classes from under it.
    Path copy = env.logDir().resolveSibling("agent-under-test.jar");
    Files.copy(jar, copy, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);

    httpAddress = "127.0.0.1:" + Ports.freeLoopbackPort();
    List<String> command =
        new ArrayList<>(
            List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.addAll(JVM);
    command.addAll(
        List.of(
            "-jar",
            copy.toString(),
            "serve",
            "--node-name",
            node,
            "--proc-root",
            procRoot.toString(),
            "--kubeconfig",
            kubeconfig.toString(),
            "--interval",
            "2s",
            "--listen",
            httpAddress,
            "--ledger",
            "none",
            "--shared-root",
            sharedRoot.toString(),
            "--kubelet-root",
            kubeletRoot.toString(),
            // where the agent looks for processes that use files: this host's /proc without the
            // processes even root may not
            // inspect here (a sandbox's own init, which holds no shared memory of the tests; the
            // real /proc would make every
            // use unknown, so nothing would ever be removed). Made when the agent starts: tests
            // start the processes that must
            // keep files before.
            "--users-proc-root",
            ReadableProc.viewAt(workDir.resolve("users-proc")).toString(),
            // the agent runs in this machine's IPC namespace, which is the node's here (/proc/1 may
            // be unreadable)
            "--host-ipc-ns",
            "/proc/self/ns/ipc"));
    command.addAll(moreOptions);
    Files.createDirectories(log.getParent());
    Files.writeString(log, "$ " + String.join(" ", command) + "\n", StandardCharsets.UTF_8);
    process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .start();
    System.err.printf(
        "[e2e] agent of %s: pid %d, token bound to pod %s/%s, log %s%n",
        node, process.pid(), NAMESPACE, podName, log);
  }

  /**
   * A kubeconfig whose only credential is a token of the agent's ServiceAccount bound to a new pod
   * {@code podName} of that ServiceAccount on {@code node}, as the DaemonSet's pod there would have
   * (its containers, the agent and the CSI plugin, share it). The caller deletes the pod.
   */
  static Path serviceAccountKubeconfig(
      E2EEnvironment env, String node, String podName, Path kubeconfig) throws IOException {
    Pod pod =
        env.admin()
            .pods()
            .inNamespace(NAMESPACE)
            .resource(
                new PodBuilder()
                    .withNewMetadata()
                    .withName(podName)
                    .addToLabels("app.kubernetes.io/name", "sharedipc-agent")
                    .addToLabels("sharedipc.dev/e2e", "true")
                    .endMetadata()
                    .withNewSpec()
                    .withNodeName(node)
                    .withServiceAccountName(SERVICE_ACCOUNT)
                    .addNewContainer()
                    .withName("agent")
                    .withImage("sharedipc-agent:e2e")
                    .endContainer()
                    .endSpec()
                    .build())
            .create();
    String token =
        env.admin()
            .serviceAccounts()
            .inNamespace(NAMESPACE)
            .withName(SERVICE_ACCOUNT)
            .tokenRequest(
                new TokenRequestBuilder()
                    .withNewSpec()
                    .withExpirationSeconds(3600L)
                    .withNewBoundObjectRef()
                    .withApiVersion("v1")
                    .withKind("Pod")
                    .withName(podName)
                    .withUid(pod.getMetadata().getUid())
                    .endBoundObjectRef()
                    .endSpec()
                    .build())
            .getStatus()
            .getToken();
    return env.tokenKubeconfig(NAMESPACE, SERVICE_ACCOUNT, token, kubeconfig);
  }

  boolean isAlive() {
    return process != null && process.isAlive();
  }

  /** Where the agent serves /metrics, /healthz, /readyz and /segments: {@code 127.0.0.1:PORT}. */
  String httpAddress() {
    return httpAddress;
  }

  Path log() {
    return log;
  }

  /**
   * How many passes the agent has finished ({@code sharedipc_scans_total} of its /metrics): its
   * report is written only when it changed or at the heartbeat (api ReportCadence), so lastScanTime
   * does not move with every pass; -1 while /metrics does not answer.
   */
  long passes() {
    try {
      java.net.http.HttpResponse<String> metrics =
          java.net.http.HttpClient.newHttpClient()
              .send(
                  java.net.http.HttpRequest.newBuilder(
                          java.net.URI.create("http://" + httpAddress + "/metrics"))
                      .timeout(java.time.Duration.ofSeconds(5))
                      .build(),
                  java.net.http.HttpResponse.BodyHandlers.ofString());
      return metrics
          .body()
          .lines()
          .filter(l -> l.startsWith("sharedipc_scans_total "))
          .mapToLong(l -> (long) Double.parseDouble(l.substring(l.indexOf(' ') + 1).trim()))
          .findFirst()
          .orElse(-1);
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  String logTail(int lines) {
    try {
      List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  /** SIGTERM, SIGKILL after 10 s; then deletes the agent's pod. Never throws. */
  @Override
  public void close() {
    Processes.stop(process, Duration.ofSeconds(10));
    try {
      env.admin().pods().inNamespace(NAMESPACE).withName(podName).withGracePeriod(0).delete();
    } catch (RuntimeException e) {
      System.err.println("[e2e] could not delete pod " + NAMESPACE + "/" + podName + ": " + e);
    }
  }
}
