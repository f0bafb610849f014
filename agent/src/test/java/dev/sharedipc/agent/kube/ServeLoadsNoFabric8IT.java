package dev.sharedipc.agent.kube;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.api.testing.RealApiServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The serving agent, as its jar runs, talks to its API server without loading fabric8: fabric8 with
 * its models and their deserializers held about 33 MiB of the agent's resident memory
 * (docs/agent.md, "Footprint"). Only the CSI driver ({@code csi}) may load it. The one model type
 * the report is made of (a status condition, api/SharedIpcNodeStatus) comes with the types its
 * declaration names: its builder and fluent, the builder interfaces, the annotations on it. Nor
 * does it load the JDK's HttpClient (its selector and worker threads and some 360 classes): the
 * agent speaks HTTP/1.1 itself (kube/Http1).
 */
class ServeLoadsNoFabric8IT {
  static final java.util.regex.Pattern THE_REPORTS_CONDITION =
      java.util.regex.Pattern.compile(
          "io\\.fabric8\\.kubernetes\\.api\\.model\\.Condition(Builder|Fluent)?"
              + "|io\\.fabric8\\.kubernetes\\.api\\.model\\.KubernetesResource"
              + "|io\\.fabric8\\.kubernetes\\.api\\.builder\\.\\w+"
              + "|io\\.fabric8\\.kubernetes\\.internal\\.KubernetesDeserializer"
              + "|io\\.fabric8\\.generator\\.annotation\\.\\w+");

  @TempDir Path dir;

  @Test
  void theServingAgentListsWatchesAndReportsWithoutLoadingFabric8OrTheJdkHttpClient()
      throws Exception {
    RealApiServer api = RealApiServer.shared();
    api.installCrds();
    Path kubeconfig = api.writeKubeConfig(dir.resolve("kubeconfig"));
    int port;
    try (java.net.ServerSocket probe = new java.net.ServerSocket(0)) {
      port = probe.getLocalPort();
    }
    Path shared = Files.createDirectories(dir.resolve("shared"));
    List<String> cmd =
        List.of(
            "java",
            "-Xlog:class+load=info:stdout",
            "-jar",
            Path.of(System.getProperty("sharedipc.agent.jar", "target/sharedipc-agent.jar"))
                .toAbsolutePath()
                .toString(),
            "serve",
            "--kubeconfig",
            kubeconfig.toString(),
            "--node-name",
            "no-fabric8-node",
            "--interval",
            "1s",
            "--listen",
            "127.0.0.1:" + port,
            "--ledger",
            "none",
            "--shared-root",
            shared.toString(),
            "--host-ipc-ns",
            "/proc/self/ns/ipc");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    List<String> fabric8 = new ArrayList<>();
    List<String> httpClient = new ArrayList<>();
    List<String> said = new ArrayList<>();
    try (BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      String line;
      while (System.nanoTime() < deadline && (line = out.readLine()) != null) {
        java.util.regex.Matcher loaded =
            java.util.regex.Pattern.compile("\\[class,load\\] (\\S+)").matcher(line);
        if (loaded.find()
            && loaded.group(1).startsWith("io.fabric8.")
            && !THE_REPORTS_CONDITION.matcher(loaded.group(1)).matches()) {
          fabric8.add(loaded.group(1));
        }
        if (loaded.find(0) && loaded.group(1).matches("(java|jdk\\.internal)\\.net\\.http\\..*")) {
          httpClient.add(loaded.group(1));
        }
        if (!line.contains("[class,load]")) {
          said.add(line);
        }
        if (line.contains("api server reachable")) {
          break; // listed, watching, and the report written
        }
      }
    } finally {
      p.destroy();
      p.waitFor(10, TimeUnit.SECONDS);
      p.destroyForcibly();
    }
    assertThat(String.join("\n", said))
        .as("the agent synced its informers and wrote its report")
        .contains("informer synced informer=pods", "api server reachable");
    assertThat(fabric8).as("fabric8 classes loaded by serve").isEmpty();
    assertThat(httpClient).as("the JDK's HttpClient classes loaded by serve").isEmpty();
  }
}
