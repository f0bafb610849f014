package dev.sharedipc.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sharedipc.api.RepoPaths;
import dev.sharedipc.api.testing.RealApiServer;
import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * bin/kubectl-sharedipc as users run it: kubectl finds it on PATH and runs {@code kubectl sharedipc
 * ...} against the real API server, which holds SharedIpcNode reports written through the status
 * subresource as two agents would write them (the CRD schema prunes a misspelt field) and a
 * SharedIpcGroup whose status says why it waits; as a user without rights, and against an API
 * server without the CRDs.
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
    kubeconfig = api.writeKubeConfig(Files.createTempFile("kubectl-sharedipc-", ".kubeconfig"));
    ns = api.newNamespace("plugin");
    nodeA = "plugin-a-" + ns;
    nodeB = "plugin-b-" + ns;
    report(
        nodeA,
        Map.of(
            "ipcNamespaces",
                List.of(
                    Map.ofEntries(
                        Map.entry("inode", 4026532001L),
                        Map.entry("podUid", "uid-writer"),
                        Map.entry("podNamespace", ns),
                        Map.entry("podName", "market-0-writer"),
                        Map.entry("group", "market"),
                        Map.entry("instance", 0),
                        Map.entry("segments", 3),
                        Map.entry("bytes", 3 * 1048576),
                        Map.entry("rssBytes", 1048576),
                        Map.entry("orphans", 1),
                        Map.entry("semaphoreSets", 2),
                        Map.entry("semaphores", 5),
                        Map.entry("messageQueues", 1),
                        Map.entry("queuedBytes", 300),
                        Map.entry("posixMessageQueues", 4),
                        Map.entry("posixQueuedBytes", 2048)),
                    Map.of(
                        "inode",
                        4026532003L,
                        "podUid",
                        "uid-reader",
                        "podNamespace",
                        ns,
                        "podName",
                        "market-1-reader",
                        "group",
                        "market",
                        "instance",
                        1,
                        "segments",
                        1,
                        "bytes",
                        4096,
                        "rssBytes",
                        4096, // no orphans: missing is 0
                        "posixMessageQueuesUnknown",
                        true),
                    Map.of(
                        "inode",
                        4026531839L,
                        "host",
                        true,
                        "segments",
                        1,
                        "bytes",
                        4096,
                        "rssBytes",
                        0,
                        "orphans",
                        0)),
            "memoryVolumes",
                List.of(
                    Map.ofEntries(
                        Map.entry("kind", "EmptyDir"),
                        Map.entry("name", "sharedipc-shm"),
                        Map.entry("path", "/var/lib/kubelet/x"),
                        Map.entry("podUid", "uid-writer"),
                        Map.entry("podNamespace", ns),
                        Map.entry("podName", "market-0-writer"),
                        Map.entry("group", "market"),
                        Map.entry("instance", 0),
                        Map.entry("sizeBytes", 64 * 1048576),
                        Map.entry("usedBytes", 2 * 1048576),
                        Map.entry("objects", 2),
                        Map.entry("objectBytes", 2 * 1048576))),
            "topOrphans",
                List.of(
                    Map.of(
                        "ipcNamespace",
                        4026532001L,
                        "shmid",
                        7,
                        "key",
                        "0x00001234",
                        "bytes",
                        1048576,
                        "podUid",
                        "uid-writer",
                        "group",
                        ns + "/market",
                        "verdict",
                        "Orphaned",
                        "action",
                        "Kept",
                        "reason",
                        "orphanPolicy is Report: kept and reported",
                        "lastUsedTime",
                        Instant.now().minus(Duration.ofHours(3)).minusSeconds(60).toString()))));
    report(
        nodeB,
        Map.of(
            "ipcNamespaces",
                List.of(
                    Map.of(
                        "inode",
                        4026532002L,
                        "podUid",
                        "uid-other",
                        "podNamespace",
                        "elsewhere",
                        "podName",
                        "other-0",
                        "group",
                        "other",
                        "instance",
                        0,
                        "segments",
                        1,
                        "bytes",
                        8192,
                        "rssBytes",
                        8192,
                        "orphans",
                        0),
                    Map.of(
                        "inode",
                        4026532004L,
                        "podUid",
                        "uid-big",
                        "podNamespace",
                        ns,
                        "podName",
                        "big-0-writer",
                        "group",
                        "big",
                        "instance",
                        0,
                        "segments",
                        1,
                        "bytes",
                        16 * 1048576,
                        "rssBytes",
                        0,
                        "orphans",
                        0)),
            "topOrphans",
                List.of(
                    Map.of(
                        "ipcNamespace",
                        4026532002L,
                        "shmid",
                        9,
                        "key",
                        "0x00009999",
                        "bytes",
                        8192,
                        "group",
                        "elsewhere/other",
                        "verdict",
                        "Orphaned",
                        "action",
                        "Removed",
                        "reason",
                        "idle past grace"))));

    GenericKubernetesResource group =
        client.resource(CrdGroup.valid("market")).inNamespace(ns).create();
    group.setAdditionalProperty(
        "status",
        Map.of(
            "phase",
            "Placing",
            "readyInstances",
            0,
            "observedGeneration",
            1,
            "conditions",
            List.of(
                condition(
                    "Ready",
                    "False",
                    "InstancesNotReady",
                    "0 of 1 instances ready; instance 0: waiting for a node"),
                condition(
                    "Placed",
                    "False",
                    "NoNodeFits",
                    "instance 0: no node has 2 CPU and 640Mi free for all members"),
                condition("PolicyCompliant", "True", "Compliant", "no policy is broken")),
            "instances",
            List.of(
                Map.of(
                    "index",
                    0,
                    "phase",
                    "Pending",
                    "message",
                    "no node has 2 CPU and 640Mi free for all members")),
            "effectiveOrphanPolicy",
            Map.of("policy", "Report", "gracePeriod", "10m", "source", "the default")));
    client.resource(group).inNamespace(ns).updateStatus();
  }

  @Test
  void topListsGroupsThenPodsByMemoryUsedLargestFirst() throws Exception {
    Result r = plugin("top", "-n", ns);
    assertThat(r.exit).as(r.err).isZero();
    String[] tables = r.out.split("\n\n");
    assertThat(tables).hasSize(2);
    List<String> groups = tables[0].lines().toList();
    assertThat(groups.get(0).split("\\s+"))
        .containsExactly(
            "NAMESPACE", "GROUP", "SEGMENTS", "BYTES", "RSS", "VOLUME-USED", "PODS", "ORPHANS");
    assertThat(groups).hasSize(3);
    assertThat(groups.get(1).split("\\s+"))
        .containsExactly(ns, "big", "1", "16M", "0B", "0B", "1", "0");
    assertThat(groups.get(2).split("\\s+"))
        .containsExactly(ns, "market", "4", "3.0M", "1.0M", "2M", "2", "1");
    List<String> pods = tables[1].lines().toList();
    assertThat(pods.get(0))
        .startsWith("NODE")
        .contains(
            "NAMESPACE", "POD", "GROUP", "SEGMENTS", "BYTES", "RSS", "VOLUME-USED", "ORPHANS");
    assertThat(pods).hasSize(4);
    assertThat(pods.get(1).split("\\s+"))
        .containsExactly(nodeB, ns, "big-0-writer", "big", "1", "16M", "0B", "0B", "0");
    assertThat(pods.get(2).split("\\s+"))
        .containsExactly(nodeA, ns, "market-0-writer", "market", "3", "3M", "1M", "2M", "1");
    assertThat(pods.get(3).split("\\s+")).startsWith(nodeA, ns, "market-1-reader");

    assertThat(plugin("top", "groups", "-A", "-o", "wide").out)
        .contains("NODES", "elsewhere", "other", nodeA);
    Result all = plugin("top", "pods", "-A", "-o", "wide");
    assertThat(all.out)
        .contains("IPC-NAMESPACE", "POD-UID", "(host)", "other-0", "4026532001", "uid-writer")
        .doesNotContain("PODS");
  }

  @Test
  void topAsJsonHasTheFieldsInBytes() throws Exception {
    Result r = plugin("top", "pods", "--node", nodeA, "-o", "json");
    assertThat(r.exit).as(r.err).isZero();
    JsonNode rows = new ObjectMapper().readTree(r.out);
    assertThat(rows).hasSize(3);
    JsonNode writer = rows.get(0);
    assertThat(writer.get("pod").asText()).isEqualTo("market-0-writer");
    assertThat(writer.get("bytes").asLong()).isEqualTo(3 * 1048576L);
    assertThat(writer.get("volumeUsedBytes").asLong()).isEqualTo(2 * 1048576L);
    JsonNode both =
        new ObjectMapper().readTree(plugin("top", "-n", ns, "--group", "market", "-o", "json").out);
    assertThat(both.get("groups")).hasSize(1);
    assertThat(both.get("groups").get(0).get("bytes").asLong()).isEqualTo(3 * 1048576L + 4096);
    assertThat(both.get("pods")).hasSize(2);
  }

  @Test
  void ipcsListsEveryKindOfIpcObjectPerNodeAndPod() throws Exception {
    Result r = plugin("ipcs", "-n", ns);
    assertThat(r.exit).as(r.err).isZero();
    List<String> lines = r.out.lines().toList();
    assertThat(lines.get(0).split("\\s+"))
        .containsExactly(
            "NODE",
            "NAMESPACE",
            "POD",
            "GROUP",
            "SHM",
            "SHM-BYTES",
            "SEM-SETS",
            "SEMS",
            "MSG-QUEUES",
            "POSIX-MQ",
            "POSIX-SHM");
    assertThat(lines).hasSize(4);
    assertThat(lines.get(1).split("\\s+"))
        .containsExactly(
            nodeA, ns, "market-0-writer", "market", "3", "3M", "2", "5", "1", "4", "2");
    // POSIX queues the agent could not read are unknown (?), not none (0).
    assertThat(lines.get(2).split("\\s+"))
        .containsExactly(
            nodeA, ns, "market-1-reader", "market", "1", "4K", "0", "0", "0", "?", "0");
    assertThat(lines.get(3).split("\\s+")).startsWith(nodeB, ns, "big-0-writer");

    assertThat(plugin("ipcs", "-A", "--group", "market").out.lines()).hasSize(3);
    assertThat(plugin("ipcs", "-A", "--group", "elsewhere/other").out.lines()).hasSize(2);
    List<String> nodeBRows = plugin("ipcs", "-A", "--node", nodeB).out.lines().toList();
    assertThat(nodeBRows).hasSize(3).noneMatch(l -> l.startsWith(nodeA));
    assertThat(plugin("ipcs", "-n", ns, "--group", "market", "-o", "wide").out)
        .contains("POSIX-SHM-BYTES", "QUEUED", "300B", "2K", "4026532001", "uid-writer");
    JsonNode json =
        new ObjectMapper()
            .readTree(plugin("ipcs", "-n", ns, "--group", "market", "-o", "json").out);
    assertThat(json.get(0).get("posixShmBytes").asLong()).isEqualTo(2 * 1048576L);
    assertThat(json.get(1).get("posixMessageQueues").isNull()).isTrue();
    assertThat(plugin("ipcs", "-n", ns, "-o", "yaml").out)
        .contains("- node: \"" + nodeA + "\"", "  semaphores: 5");
  }

  @Test
  void orphansSayWhereTheyAreAndWhatThePolicyDoes() throws Exception {
    Result r = plugin("orphans", "-n", ns);
    assertThat(r.exit).as(r.err).isZero();
    List<String> lines = r.out.lines().toList();
    assertThat(lines.get(0).split("\\s+"))
        .containsExactly(
            "NODE", "GROUP", "SHMID", "KEY", "SIZE", "UNUSED-FOR", "VERDICT", "ACTION");
    assertThat(lines).hasSize(2);
    assertThat(lines.get(1).split("\\s+"))
        .containsExactly(nodeA, ns + "/market", "7", "0x00001234", "1M", "3h", "Orphaned", "Kept");
    // a report without the time (an older agent) shows - rather than failing
    assertThat(plugin("orphans", "-A", "--node", nodeB).out.lines().toList().get(1))
        .contains(" - ");

    assertThat(plugin("orphans", "-A", "-o", "wide").out)
        .contains("REASON", "idle past grace", "elsewhere/other", "Removed");
    assertThat(plugin("orphans", "-A", "--group", "elsewhere/other").out)
        .contains("Removed")
        .doesNotContain("Kept");
    Result yaml = plugin("orphans", "--node", nodeB, "-o", "yaml");
    assertThat(yaml.out)
        .contains("- node: \"" + nodeB + "\"", "  shmid: 9", "  action: \"Removed\"");
  }

  @Test
  void whySaysWhatHoldsTheGroupBack() throws Exception {
    Result r = plugin("why", "market", "-n", ns);
    assertThat(r.exit).as(r.err).isZero();
    assertThat(r.out)
        .contains("SharedIpcGroup " + ns + "/market: phase Placing, 0 of 1 instances ready")
        .contains("NoNodeFits", "instance 0: no node has 2 CPU and 640Mi free for all members")
        .contains("Instances not ready:", "Pending")
        .contains("Orphaned segments: Report after 10m (the default)")
        .doesNotContain("Compliant"); // only what is not True, without -o wide
    assertThat(plugin("why", "market", "-n", ns, "-o", "wide").out)
        .contains("PolicyCompliant", "Compliant");
    JsonNode json =
        new ObjectMapper().readTree(plugin("why", "market", "-n", ns, "-o", "json").out);
    assertThat(json.get("waitingInstances").get(0).get("message").asText()).contains("no node has");
  }

  @Test
  void whyOnAGroupTheOperatorHasNotSeenSaysSoInsteadOfAllTrue() throws Exception {
    client.resource(CrdGroup.valid("unseen")).inNamespace(ns).create();
    Result r = plugin("why", "unseen", "-n", ns);
    assertThat(r.exit).as(r.err).isZero();
    assertThat(r.out)
        .contains("phase (no status yet: is the operator running?)")
        .contains("none yet: the operator has not written this group's status")
        .doesNotContain("every condition is True");
  }

  @Test
  void aGroupThatDoesNotExistIsOneLineAndExitCodeOne() throws Exception {
    Result r = plugin("why", "absent", "-n", ns);
    assertThat(r.exit).isEqualTo(1);
    assertThat(r.err)
        .startsWith("kubectl sharedipc why: ")
        .contains("\"absent\" not found")
        .doesNotContain("Traceback");
  }

  @Test
  void helpNamesEveryCommand() throws Exception {
    Result r = plugin("--help");
    assertThat(r.exit).isZero();
    assertThat(r.out).contains("top", "ipcs", "orphans", "why");
    for (String command : List.of("top", "ipcs", "orphans")) {
      assertThat(plugin(command, "--help").out)
          .contains("-o {wide,json,yaml}", "--node", "-A", "--group");
    }
  }

  @Test
  void theOldNameStillWorks() throws Exception {
    Result r = run("sipc", "orphans", "-n", ns);
    assertThat(r.exit).as(r.err).isZero();
    assertThat(r.out).contains("0x00001234");
  }

  @Test
  void aUserWithoutRightsGetsOneLineSayingWhatToAskFor() throws Exception {
    String nobody = "system:serviceaccount:" + ns + ":nobody";
    for (String command : List.of("top", "ipcs", "orphans")) {
      Result r = plugin(command, "-A", "--as", nobody);
      assertThat(r.exit).as(r.out).isEqualTo(1);
      assertThat(r.err.lines()).as(r.err).hasSize(1);
      assertThat(r.err)
          .startsWith("kubectl sharedipc " + command + ": your RBAC does not allow it: ")
          .contains(nobody, "sharedipcnodes", "ask your cluster admin for get and list");
    }
    Result before =
        plugin("--as", nobody, "top"); // kubectl's global-flag place, before the command
    assertThat(before.exit).as(before.out).isEqualTo(1);
    assertThat(before.err)
        .startsWith("kubectl sharedipc top: your RBAC does not allow it: ")
        .contains(nobody);
    Result why = plugin("why", "market", "-n", ns, "--as", nobody);
    assertThat(why.exit).isEqualTo(1);
    assertThat(why.err)
        .startsWith("kubectl sharedipc why: your RBAC does not allow it: ")
        .contains("sharedipcgroups");
  }

  @Test
  void aClusterWithoutTheCrdsGetsOneLineSayingHowToInstallThem() throws Exception {
    // A second real API server, on which nobody installed the CRDs; the same binaries as the shared
    // one.
    Path binDir = api.kubectl().getParent();
    KubeAPIServer bare =
        new KubeAPIServer(
            KubeAPIServerConfigBuilder.anAPIServerConfig()
                .withTestDir(binDir.getParent().getParent().toString())
                .withApiServerVersion(binDir.getFileName().toString().replaceFirst("-linux-.*", ""))
                .withOfflineMode(true)
                .withUpdateKubeConfig(false)
                .withStartupTimeout(120_000)
                .withApiServerFlag("--bind-address", "127.0.0.1")
                .build());
    bare.start();
    try {
      Path bareConfig =
          Files.writeString(
              Files.createTempFile("kubectl-sharedipc-bare-", ".kubeconfig"),
              bare.getKubeConfigYaml());
      for (String command : List.of("top", "ipcs", "orphans")) {
        Result r = plugin(command, "-A", "--kubeconfig", bareConfig.toString());
        assertThat(r.exit).as(r.out).isEqualTo(1);
        assertThat(r.err.lines()).as(r.err).hasSize(1);
        assertThat(r.err)
            .startsWith(
                "kubectl sharedipc "
                    + command
                    + ": the sharedipc CRDs are not installed on this cluster")
            .contains("install them: kubectl apply --server-side --force-conflicts -f crds/");
      }
      Result before =
          plugin(
              "--kubeconfig",
              bareConfig.toString(),
              "why",
              "market"); // the flag before the command
      assertThat(before.exit).as(before.out).isEqualTo(1);
      assertThat(before.err)
          .startsWith(
              "kubectl sharedipc why: the sharedipc CRDs are not installed on this cluster");
    } finally {
      bare.stop();
    }
  }

  @Test
  void aReportItsAgentHasNotRenewedInTimeIsNamedOnStderrAndTheOutputStaysClean() throws Exception {
    java.time.Instant now = java.time.Instant.now();
    String stale = "plugin-stale-" + ns;
    String fresh = "plugin-fresh-" + ns;
    report(
        stale,
        Map.of(
            "lastScanTime",
            now.minus(dev.sharedipc.api.ReportCadence.STALE_AFTER)
                .minus(java.time.Duration.ofMinutes(1))
                .toString()));
    report(
        fresh,
        Map.of(
            "lastScanTime",
            now.minus(dev.sharedipc.api.ReportCadence.STALE_AFTER)
                .plus(java.time.Duration.ofMinutes(1))
                .toString()));
    try {
      Result r = plugin("ipcs", "--node", stale, "-o", "json");
      assertThat(r.exit).as(r.err).isZero();
      assertThat(r.err)
          .contains(
              "warning: node " + stale + " last reported 12m ago",
              "its agent is not reporting",
              "--field-selector spec.nodeName=" + stale);
      new ObjectMapper().readTree(r.out); // the JSON on stdout is whole

      Result ok = plugin("ipcs", "--node", fresh);
      assertThat(ok.exit).as(ok.err).isZero();
      assertThat(ok.err)
          .as("a report renewed within the operator's staleness rule is not warned about")
          .doesNotContain("warning");
    } finally {
      for (String node : List.of(stale, fresh)) {
        client
            .genericKubernetesResources("sharedipc.dev/v1alpha1", "SharedIpcNode")
            .withName(node)
            .delete();
      }
    }
  }

  // ---- helpers
  // -----------------------------------------------------------------------------------

  private static void report(String node, Map<String, Object> status) {
    GenericKubernetesResource report = new GenericKubernetesResource();
    report.setApiVersion("sharedipc.dev/v1alpha1");
    report.setKind("SharedIpcNode");
    report.setMetadata(
        new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(node).build());
    GenericKubernetesResource created = client.resource(report).create();
    created.setAdditionalProperty("status", status);
    client.resource(created).updateStatus();
  }

  private static Map<String, Object> condition(
      String type, String status, String reason, String message) {
    return Map.of(
        "type",
        type,
        "status",
        status,
        "reason",
        reason,
        "message",
        message,
        "lastTransitionTime",
        "2026-01-01T00:00:00Z");
  }

  /** A minimal valid group, as plain maps. */
  private static final class CrdGroup {
    static GenericKubernetesResource valid(String name) {
      GenericKubernetesResource group = new GenericKubernetesResource();
      group.setApiVersion("sharedipc.dev/v1alpha1");
      group.setKind("SharedIpcGroup");
      group.setMetadata(
          new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(name).build());
      group.setAdditionalProperty(
          "spec",
          Map.of(
              "placement",
              "SameNode",
              "sharedMemory",
              Map.of("size", "64Mi"),
              "members",
              List.of(
                  Map.of(
                      "name",
                      "writer",
                      "template",
                      Map.of(
                          "spec",
                          Map.of(
                              "containers",
                              List.of(Map.of("name", "writer", "image", "busybox"))))))));
      return group;
    }
  }

  private record Result(int exit, String out, String err) {}

  /** {@code kubectl sharedipc ARGS}. */
  private static Result plugin(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(args));
    command.add(0, "sharedipc");
    return run(command.toArray(String[]::new));
  }

  /** {@code kubectl ARGS}, with the repository's bin/ on PATH as a user would put it. */
  private static Result run(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(api.kubectl().toString()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment()
        .put(
            "PATH",
            RepoPaths.root().resolve("bin")
                + ":"
                + api.kubectl().getParent()
                + ":"
                + System.getenv("PATH"));
    pb.environment().put("KUBECONFIG", kubeconfig.toString());
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
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("%s finished", command).isTrue();
    return new Result(p.exitValue(), out, err.join());
  }
}
