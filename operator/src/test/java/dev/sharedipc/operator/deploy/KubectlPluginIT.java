package dev.sharedipc.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sharedipc.api.RepoPaths;
import dev.sharedipc.api.testing.RealApiServer;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * bin/kubectl-sipc as users run it: kubectl finds it on PATH and runs {@code kubectl sipc ...}
 * against the real API server, which holds hand-written SharedIpcNode reports (as two agents would
 * write them) and a SharedIpcGroup whose status says why it waits.
 */
class KubectlPluginIT {
  private static RealApiServer api;
  private static KubernetesClient client;
  private static Path kubeconfig;
  private static String ns;
  private static String nodeA;
  private static String nodeB;

  @BeforeAll
  static void reports() throws IOException {
    api = RealApiServer.shared();
    client = api.client();
    kubeconfig = api.writeKubeConfig(Files.createTempFile("kubectl-sipc-", ".kubeconfig"));
    ns = api.newNamespace("plugin");
    nodeA = "plugin-a-" + ns;
    nodeB = "plugin-b-" + ns;
    report(nodeA, Map.of(
        "ipcNamespaces", List.of(
            Map.of("inode", 4026532001L, "podUid", "uid-writer", "podNamespace", ns, "podName", "market-0-writer",
                "group", "market", "instance", 0, "segments", 3, "bytes", 3 * 1048576, "rssBytes", 1048576, "orphans", 1),
            Map.of("inode", 4026531839L, "host", true, "segments", 1, "bytes", 4096, "rssBytes", 0, "orphans", 0)),
        "memoryVolumes", List.of(Map.of("kind", "EmptyDir", "name", "sharedipc-shm", "path", "/var/lib/kubelet/x",
            "podUid", "uid-writer", "podNamespace", ns, "podName", "market-0-writer", "group", "market", "instance", 0,
            "sizeBytes", 64 * 1048576, "usedBytes", 2 * 1048576)),
        "topOrphans", List.of(Map.of("ipcNamespace", 4026532001L, "shmid", 7, "key", "0x00001234", "bytes", 1048576,
            "podUid", "uid-writer", "group", ns + "/market", "verdict", "Orphaned", "action", "Kept",
            "reason", "orphanPolicy is Report: kept and reported"))));
    report(nodeB, Map.of(
        "ipcNamespaces", List.of(Map.of("inode", 4026532002L, "podUid", "uid-other", "podNamespace", "elsewhere",
            "podName", "other-0", "group", "other", "instance", 0, "segments", 1, "bytes", 8192, "rssBytes", 8192, "orphans", 0)),
        "topOrphans", List.of(Map.of("ipcNamespace", 4026532002L, "shmid", 9, "key", "0x00009999", "bytes", 8192,
            "group", "elsewhere/other", "verdict", "Orphaned", "action", "Removed", "reason", "idle past grace"))));

    GenericKubernetesResource group = client.resource(CrdGroup.valid("market")).inNamespace(ns).create();
    group.setAdditionalProperty("status", Map.of("phase", "Placing", "readyInstances", 0, "observedGeneration", 1,
        "conditions", List.of(
            condition("Ready", "False", "InstancesNotReady", "0 of 1 instances ready; instance 0: waiting for a node"),
            condition("Placed", "False", "NoNodeFits", "instance 0: no node has 2 CPU and 640Mi free for all members"),
            condition("PolicyCompliant", "True", "Compliant", "no policy is broken")),
        "instances", List.of(Map.of("index", 0, "phase", "Pending", "message", "no node has 2 CPU and 640Mi free for all members")),
        "effectiveOrphanPolicy", Map.of("policy", "Report", "gracePeriod", "10m", "source", "the default")));
    client.resource(group).inNamespace(ns).updateStatus();
  }

  @Test
  void usageListsThePodsHoldingSharedMemoryLargestFirst() throws Exception {
    Result r = sipc("usage", "-n", ns);
    assertThat(r.exit).as(r.err).isZero();
    List<String> lines = r.out.lines().toList();
    assertThat(lines.get(0)).startsWith("NODE").contains("NAMESPACE", "POD", "GROUP", "SEGMENTS", "BYTES", "RSS", "VOLUME-USED", "ORPHANS");
    assertThat(lines).hasSize(2);
    assertThat(lines.get(1).split("\\s+")).containsExactly(nodeA, ns, "market-0-writer", "market", "3", "3M", "1M", "2M", "1");

    Result all = sipc("usage", "-A", "-o", "wide");
    assertThat(all.out).contains("IPC-NAMESPACE", "POD-UID", "(host)", "other-0", "4026532001", "uid-writer");
  }

  @Test
  void usageAsJsonHasTheFieldsInBytes() throws Exception {
    Result r = sipc("usage", "--node", nodeA, "-o", "json");
    assertThat(r.exit).as(r.err).isZero();
    JsonNode rows = new ObjectMapper().readTree(r.out);
    assertThat(rows).hasSize(2);
    JsonNode writer = rows.get(0);
    assertThat(writer.get("pod").asText()).isEqualTo("market-0-writer");
    assertThat(writer.get("bytes").asLong()).isEqualTo(3 * 1048576L);
    assertThat(writer.get("volumeUsedBytes").asLong()).isEqualTo(2 * 1048576L);
    assertThat(rows.get(1).get("pod").asText()).isEqualTo("(host)");
  }

  @Test
  void orphansSayWhereTheyAreAndWhatThePolicyDoes() throws Exception {
    Result r = sipc("orphans", "-n", ns);
    assertThat(r.exit).as(r.err).isZero();
    List<String> lines = r.out.lines().toList();
    assertThat(lines.get(0).split("\\s+")).containsExactly("NODE", "GROUP", "SHMID", "KEY", "SIZE", "VERDICT", "ACTION");
    assertThat(lines).hasSize(2);
    assertThat(lines.get(1).split("\\s+")).containsExactly(nodeA, ns + "/market", "7", "0x00001234", "1M", "Orphaned", "Kept");

    assertThat(sipc("orphans", "-A", "-o", "wide").out).contains("REASON", "idle past grace", "elsewhere/other", "Removed");
    Result yaml = sipc("orphans", "--node", nodeB, "-o", "yaml");
    assertThat(yaml.out).contains("- node: \"" + nodeB + "\"", "  shmid: 9", "  action: \"Removed\"");
  }

  @Test
  void whySaysWhatHoldsTheGroupBack() throws Exception {
    Result r = sipc("why", "market", "-n", ns);
    assertThat(r.exit).as(r.err).isZero();
    assertThat(r.out).contains("SharedIpcGroup " + ns + "/market: phase Placing, 0 of 1 instances ready")
        .contains("NoNodeFits", "instance 0: no node has 2 CPU and 640Mi free for all members")
        .contains("Instances not ready:", "Pending")
        .contains("Orphaned segments: Report after 10m (the default)")
        .doesNotContain("Compliant"); // only what is not True, without -o wide
    assertThat(sipc("why", "market", "-n", ns, "-o", "wide").out).contains("PolicyCompliant", "Compliant");
    JsonNode json = new ObjectMapper().readTree(sipc("why", "market", "-n", ns, "-o", "json").out);
    assertThat(json.get("waitingInstances").get(0).get("message").asText()).contains("no node has");
  }

  @Test
  void whyOnAGroupTheOperatorHasNotSeenSaysSoInsteadOfAllTrue() throws Exception {
    client.resource(CrdGroup.valid("unseen")).inNamespace(ns).create();
    Result r = sipc("why", "unseen", "-n", ns);
    assertThat(r.exit).as(r.err).isZero();
    assertThat(r.out).contains("phase (no status yet: is the operator running?)")
        .contains("none yet: the operator has not written this group's status").doesNotContain("every condition is True");
  }

  @Test
  void aGroupThatDoesNotExistIsOneLineAndExitCodeOne() throws Exception {
    Result r = sipc("why", "absent", "-n", ns);
    assertThat(r.exit).isEqualTo(1);
    assertThat(r.err).startsWith("kubectl sipc why: ").contains("\"absent\" not found").doesNotContain("Traceback");
  }

  @Test
  void helpNamesEveryCommand() throws Exception {
    Result r = sipc("--help");
    assertThat(r.exit).isZero();
    assertThat(r.out).contains("usage", "orphans", "why");
    assertThat(sipc("orphans", "--help").out).contains("-o {wide,json,yaml}", "--node", "-A");
  }

  // ---- helpers -----------------------------------------------------------------------------------

  private static void report(String node, Map<String, Object> status) {
    GenericKubernetesResource report = new GenericKubernetesResource();
    report.setApiVersion("sharedipc.dev/v1alpha1");
    report.setKind("SharedIpcNode");
    report.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(node).build());
    GenericKubernetesResource created = client.resource(report).create();
    created.setAdditionalProperty("status", status);
    client.resource(created).updateStatus();
  }

  private static Map<String, Object> condition(String type, String status, String reason, String message) {
    return Map.of("type", type, "status", status, "reason", reason, "message", message, "lastTransitionTime", "2026-01-01T00:00:00Z");
  }

  /** A minimal valid group, as plain maps. */
  private static final class CrdGroup {
    static GenericKubernetesResource valid(String name) {
      GenericKubernetesResource group = new GenericKubernetesResource();
      group.setApiVersion("sharedipc.dev/v1alpha1");
      group.setKind("SharedIpcGroup");
      group.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(name).build());
      group.setAdditionalProperty("spec", Map.of("placement", "SameNode", "sharedMemory", Map.of("size", "64Mi"),
          "members", List.of(Map.of("name", "writer", "template", Map.of("spec",
              Map.of("containers", List.of(Map.of("name", "writer", "image", "busybox"))))))));
      return group;
    }
  }

  private record Result(int exit, String out, String err) {}

  /** {@code kubectl sipc ARGS}, with the repository's bin/ on PATH as a user would put it. */
  private static Result sipc(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(api.kubectl().toString(), "sipc"));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().put("PATH", RepoPaths.root().resolve("bin") + ":" + api.kubectl().getParent() + ":" + System.getenv("PATH"));
    pb.environment().put("KUBECONFIG", kubeconfig.toString());
    Process p = pb.start();
    CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> {
      try {
        return new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("%s finished", command).isTrue();
    return new Result(p.exitValue(), out, err.join());
  }
}
