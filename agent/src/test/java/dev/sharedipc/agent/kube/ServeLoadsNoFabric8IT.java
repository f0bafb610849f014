package dev.sharedipc.agent.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.agent.testing.Scrapes;
import dev.sharedipc.agent.testing.SegmentsReaders;
import dev.sharedipc.api.testing.RealApiServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
 * agent speaks HTTP/1.1 itself (kube/Http1). Nor Jackson's ObjectMapper with its bean serializers
 * and deserializers (some 550 classes, 5 MiB): the agent reads and writes its JSON with kube/Json.
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
  void theServingAgentListsWatchesReportsAndServesWithoutFabric8TheJdkHttpClientOrJacksonsMapper()
      throws Exception {
    RealApiServer api = RealApiServer.shared();
    api.installCrds();
    // /segments only to a token allowed to get sharedipcnodes/segments (docs/security.md)
    SegmentsReaders.installRbac(api);
    String readers = api.newNamespace("no-fabric8");
    SegmentsReaders.serviceAccount(api, readers, "reader", true);
    String token = SegmentsReaders.token(api, readers, "reader");
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
    List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());
    java.util.concurrent.CountDownLatch reachable = new java.util.concurrent.CountDownLatch(1);
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader out =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = out.readLine()) != null; ) {
                  lines.add(line);
                  if (line.contains("api server reachable")) {
                    reachable.countDown();
                  }
                }
              } catch (java.io.IOException e) {
                // the process ended
              }
            });
    reader.start();
    String segments;
    try {
      assertThat(reachable.await(60, TimeUnit.SECONDS))
          .as("the agent said: api server reachable")
          .isTrue();
      // listed, watching, and the report written; now the JSON view and two more passes, whose
      // reports are unchanged and not written
      segments = get(port, "/segments", token);
      double firstScan =
          await()
              .atMost(Duration.ofSeconds(30))
              .pollInterval(Duration.ofMillis(200))
              .until(() -> lastScan(port), scan -> !Double.isNaN(scan));
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> lastScan(port) >= firstScan + 2);
    } finally {
      p.destroy();
      p.waitFor(10, TimeUnit.SECONDS);
      p.destroyForcibly();
      reader.join(10_000);
    }
    List<String> fabric8 = new ArrayList<>();
    List<String> httpClient = new ArrayList<>();
    List<String> mapper = new ArrayList<>();
    List<String> exemplars = new ArrayList<>();
    List<String> said = new ArrayList<>();
    java.util.regex.Pattern loadedClass =
        java.util.regex.Pattern.compile("\\[class,load\\] (\\S+)");
    synchronized (lines) {
      for (String line : lines) {
        java.util.regex.Matcher loaded = loadedClass.matcher(line);
        if (!loaded.find()) {
          said.add(line);
          continue;
        }
        String name = loaded.group(1);
        if (name.startsWith("io.fabric8.") && !THE_REPORTS_CONDITION.matcher(name).matches()) {
          fabric8.add(name);
        }
        if (name.matches("(java|jdk\\.internal)\\.net\\.http\\..*")) {
          httpClient.add(name);
        }
        if (JACKSONS_MAPPER.matcher(name).matches()) {
          mapper.add(name);
        }
        if (name.startsWith("io.prometheus.metrics.core.exemplars.")
            || name.startsWith("io.prometheus.metrics.core.util.Scheduler")) {
          exemplars.add(name);
        }
      }
    }
    assertThat(String.join("\n", said))
        .as("the agent synced its informers and wrote its report")
        .contains("informer synced informer=pods", "api server reachable");
    assertThat(segments).as("the /segments view").contains("\"segments\"");
    assertThat(fabric8).as("fabric8 classes loaded by serve").isEmpty();
    assertThat(httpClient).as("the JDK's HttpClient classes loaded by serve").isEmpty();
    assertThat(mapper)
        .as("Jackson's ObjectMapper and bean (de)serializers loaded by serve")
        .isEmpty();
    assertThat(exemplars)
        .as("the Prometheus client's exemplar sampler and the scheduler thread it starts")
        .isEmpty();
  }

  /**
   * Jackson's mapper and its bean machinery; its tree nodes and core parser are what kube/Json
   * uses.
   */
  static final java.util.regex.Pattern JACKSONS_MAPPER =
      java.util.regex.Pattern.compile(
          "com\\.fasterxml\\.jackson\\.databind\\."
              + "(ObjectMapper|ObjectReader|ObjectWriter|SerializerProvider|DeserializationContext"
              + "|ser\\..*|introspect\\..*|deser\\.(std|impl)\\..*|deser\\.Bean.*)"
              + "|com\\.fasterxml\\.jackson\\.dataformat\\.yaml\\.YAMLMapper");

  private static String get(int port, String path) throws java.io.IOException {
    return get(port, path, null);
  }

  private static String get(int port, String path, String token) throws java.io.IOException {
    var c =
        (java.net.HttpURLConnection)
            new java.net.URL("http://127.0.0.1:" + port + path).openConnection();
    if (token != null) {
      c.setRequestProperty("Authorization", "Bearer " + token);
    }
    try (var in = c.getInputStream()) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } finally {
      c.disconnect();
    }
  }

  /** When the serving agent's last scan ended, from its /metrics; NaN before the first. */
  private static double lastScan(int port) throws java.io.IOException {
    return Scrapes.value(get(port, "/metrics"), "sharedipc_last_scan_timestamp_seconds");
  }
}
