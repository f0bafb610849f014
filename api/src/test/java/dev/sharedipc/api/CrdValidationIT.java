package dev.sharedipc.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sharedipc.api.testing.RealApiServer;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The CRDs of crds/ on a real kube-apiserver: they install, every sample is accepted, and each
 * admission rule rejects what it must with a message a user can act on.
 */
class CrdValidationIT {
  private static RealApiServer api;
  private static KubernetesClient client;
  private static String ns;

  @BeforeAll
  static void startApiServer() {
    api = RealApiServer.shared();
    client = api.client();
    ns = api.newNamespace("crd-validation");
  }

  @Test
  void crdsAreEstablishedWithShortNamesAndStatusSubresource() {
    CustomResourceDefinition groups =
        client
            .apiextensions()
            .v1()
            .customResourceDefinitions()
            .withName("sharedipcgroups.sharedipc.dev")
            .get();
    assertThat(groups.getSpec().getNames().getShortNames()).containsExactly("sipc");
    assertThat(groups.getSpec().getScope()).isEqualTo("Namespaced");
    assertThat(groups.getSpec().getVersions().get(0).getSubresources().getStatus()).isNotNull();
    assertThat(groups.getSpec().getVersions().get(0).getAdditionalPrinterColumns())
        .extracting(c -> c.getName())
        .startsWith("Placement", "Replicas", "Ready")
        .endsWith("Age");
    assertThat(
            client
                .apiextensions()
                .v1()
                .customResourceDefinitions()
                .withName("sharedipcnodes.sharedipc.dev")
                .get()
                .getSpec()
                .getScope())
        .isEqualTo("Cluster");
    assertThat(
            client
                .apiextensions()
                .v1()
                .customResourceDefinitions()
                .withName("sharedipcpolicies.sharedipc.dev")
                .get()
                .getSpec()
                .getScope())
        .isEqualTo("Cluster");
  }

  /**
   * The upgrade command of the README and docs/install.md, typed as users type it, over CRDs that
   * another field manager installed (here fabric8; after a Helm install, Helm): it exits 0. {@code
   * --force-conflicts} is part of the command because the CRDs are this project's own: an upgrade
   * takes them over from whichever manager installed them.
   */
  @Test
  void crdsDirectoryAppliesServerSideAsTheReadmeSays() throws Exception {
    Path kubeconfig = api.writeKubeConfig(Files.createTempFile("crd-apply", ".kubeconfig"));
    Process kubectl =
        new ProcessBuilder(
                api.kubectl().toString(),
                "--kubeconfig",
                kubeconfig.toString(),
                "apply",
                "--server-side",
                "--force-conflicts",
                "-f",
                RepoPaths.root().resolve("crds").toString())
            .redirectErrorStream(true)
            .start();
    String output =
        new String(
            kubectl.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(kubectl.waitFor())
        .as("kubectl apply --server-side --force-conflicts -f crds/ said:%n%s", output)
        .isZero();
    assertThat(output)
        .contains("sharedipcgroups.sharedipc.dev serverside-applied")
        .contains("sharedipcnodes.sharedipc.dev serverside-applied")
        .contains("sharedipcpolicies.sharedipc.dev serverside-applied");
  }

  @Test
  void everySampleIsAccepted() throws IOException {
    List<Path> samples;
    try (Stream<Path> files = Files.list(RepoPaths.root().resolve("samples"))) {
      samples = files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
    }
    assertThat(samples).isNotEmpty();
    for (Path sample : samples) {
      try (InputStream in = Files.newInputStream(sample)) {
        for (HasMetadata item : client.load(in).items()) {
          HasMetadata created = client.resource(item).inNamespace(ns).dryRun().create();
          assertThat(created.getMetadata().getName())
              .as("%s", sample)
              .isEqualTo(item.getMetadata().getName());
        }
      }
    }
  }

  @Test
  void defaultsAreFilledIn() {
    GenericKubernetesResource created =
        client.resource(validGroup("defaults")).inNamespace(ns).create();
    SharedIpcGroup group =
        Serialization.unmarshal(Serialization.asJson(created), SharedIpcGroup.class);
    assertThat(group.getSpec().getReplicas()).isEqualTo(1);
    assertThat(group.getSpec().getPlacement().name()).isEqualTo("SamePod");
    assertThat(group.getSpec().getSharedMemory().getMountPath()).isEqualTo("/dev/shm");
    assertThat(group.getSpec().getHostIPC()).isFalse();
    assertThat(group.getSpec().getSegments().getOrphanGracePeriod()).isEqualTo("10m");
    // No default: an absent orphanPolicy lets a SharedIpcPolicy's defaultOrphanPolicy apply.
    assertThat(group.getSpec().getSegments().getOrphanPolicy()).isNull();
  }

  @Test
  void rejectsSizeThatIsNotAQuantity() {
    assertRejected(
        g -> sharedMemory(g).put("size", "lots"), "size must be a positive Kubernetes quantity");
  }

  @Test
  void rejectsZeroSize() {
    assertRejected(
        g -> sharedMemory(g).put("size", "0"), "size must be a positive Kubernetes quantity");
  }

  @Test
  void rejectsMissingSize() {
    assertRejected(g -> sharedMemory(g).remove("size"), "spec.sharedMemory.size: Required value");
  }

  @Test
  void rejectsMissingSharedMemory() {
    assertRejected(g -> spec(g).remove("sharedMemory"), "spec.sharedMemory: Required value");
  }

  @Test
  void rejectsZeroMembers() {
    assertRejected(g -> spec(g).put("members", new ArrayList<>()), "should have at least 1 items");
  }

  @Test
  void rejectsMoreThanSixteenMembers() {
    assertRejected(
        g -> {
          List<Object> members = new ArrayList<>();
          for (int i = 0; i < 17; i++) {
            members.add(member("m" + i));
          }
          spec(g).put("members", members);
        },
        "must have at most 16 items");
  }

  @Test
  void rejectsDuplicateMemberNames() {
    assertRejected(
        g -> spec(g).put("members", List.of(member("same"), member("same"))),
        "member names must be unique");
  }

  @Test
  void rejectsMemberNameThatIsNotDns1123() {
    assertRejected(
        g -> spec(g).put("members", List.of(member("Writer_1"))),
        "spec.members[0].name in body should match");
  }

  @Test
  void rejectsHostIpcWithSamePod() {
    assertRejected(g -> spec(g).put("hostIPC", true), "hostIPC: true needs placement: SameNode");
  }

  @Test
  void acceptsHostIpcWithSameNode() {
    GenericKubernetesResource group = validGroup("samenode-hostipc");
    spec(group).put("placement", "SameNode");
    spec(group).put("hostIPC", true);
    assertThat(client.resource(group).inNamespace(ns).dryRun().create()).isNotNull();
  }

  @Test
  void rejectsHostIpcInAMemberTemplate() {
    assertRejected(
        g -> podSpec(firstMember(g)).put("hostIPC", true),
        "set hostIPC on the group (spec.hostIPC, SameNode only), not in a member's pod template");
  }

  @Test
  void rejectsAccountToNamingNoMember() {
    assertRejected(
        g -> sharedMemory(g).put("accountTo", "nobody"),
        "sharedMemory.accountTo must name one of the members");
  }

  @Test
  void rejectsRelativeMountPath() {
    assertRejected(
        g -> sharedMemory(g).put("mountPath", "dev/shm"),
        "spec.sharedMemory.mountPath in body should match '^/.*'");
  }

  @Test
  void rejectsNegativeReplicas() {
    assertRejected(
        g -> spec(g).put("replicas", -1),
        "spec.replicas in body should be greater than or equal to 0");
  }

  @Test
  void rejectsUnknownOrphanPolicy() {
    assertRejected(g -> segments(g).put("orphanPolicy", "Shred"), "Unsupported value: \"Shred\"");
  }

  @Test
  void rejectsGracePeriodThatIsNotADuration() {
    assertRejected(
        g -> segments(g).put("orphanGracePeriod", "ten minutes"),
        "spec.segments.orphanGracePeriod in body should match");
  }

  @Test
  void rejectsSchedulingTimeoutBelowTenSeconds() {
    assertRejected(
        g -> spec(g).put("scheduling", new java.util.HashMap<>(Map.of("timeout", "9s"))),
        "scheduling.timeout must be at least 10s");
    assertRejected(
        g -> spec(g).put("scheduling", new java.util.HashMap<>(Map.of("timeout", "500ms"))),
        "scheduling.timeout must be at least 10s");
  }

  @Test
  void acceptsSchedulingTimeoutOfTenSecondsAndMore() {
    for (String timeout : List.of("10s", "1m30s", "10000ms")) {
      GenericKubernetesResource group = validGroup("timeout");
      spec(group).put("scheduling", new java.util.HashMap<>(Map.of("timeout", timeout)));
      assertThat(client.resource(group).inNamespace(ns).dryRun().create()).as(timeout).isNotNull();
    }
  }

  @Test
  void rejectsMaxBytesThatIsNotAQuantity() {
    assertRejected(
        g -> segments(g).put("maxBytes", "a lot"),
        "maxBytes must be a positive Kubernetes quantity");
  }

  /**
   * The operator and the CSI driver count bytes in a signed 64-bit integer: 8Ei is one byte more
   * than they can hold, and a size they cannot read must not be stored. The API server reads 8Ei
   * and 100Ei as 9223372036854775807 (its parser caps binary-suffixed values there), so that value
   * is refused too.
   */
  @Test
  void rejectsSizesOf8EiAndAbove() {
    for (String size :
        List.of("8Ei", "100Ei", "9223372036854775807", "9223372036854775808", "9.3e18")) {
      assertRejected(
          g -> sharedMemory(g).put("size", size),
          "size must be below 8Ei (at most 9223372036854775806 bytes)");
    }
    assertRejected(
        g -> segments(g).put("maxBytes", "8Ei"),
        "maxBytes must be below 8Ei (at most 9223372036854775806 bytes)");
  }

  @Test
  void acceptsTheLargestSizeTheOperatorReads() {
    for (Object size : List.of("9223372036854775806", "7Ei", 9223372036854775807L)) {
      GenericKubernetesResource group = validGroup("largest");
      sharedMemory(group).put("size", size);
      segments(group).put("maxBytes", size);
      client.resource(group).inNamespace(ns).dryRun().create();
    }
  }

  @Test
  void rejectsPolicyCeilingsOf8EiAndAbove() {
    for (String field : List.of("maxSharedMemoryPerInstance", "maxBytesPerInstance")) {
      GenericKubernetesResource policy = policy("huge-ceiling", Map.of(field, "8Ei"));
      assertThatThrownBy(() -> client.resource(policy).dryRun().create())
          .isInstanceOf(KubernetesClientException.class)
          .hasMessageContaining(field + " must be below 8Ei (at most 9223372036854775806 bytes)");
    }
  }

  /**
   * A namespaceSelector is checked as the API server checks its own types' LabelSelectors: an
   * expression the operator could not evaluate is refused, with the field and what to change.
   */
  @Test
  void rejectsNamespaceSelectorsThatAreNotLabelSelectors() {
    Map<String, String> refused =
        Map.of(
            "{\"key\": \"team\", \"values\": [\"a\"]}",
            "spec.namespaceSelector.matchExpressions[0].operator: Required value",
            "{\"operator\": \"Exists\"}",
            "spec.namespaceSelector.matchExpressions[0].key: Required value",
            "{\"key\": \"team\", \"operator\": \"in\", \"values\": [\"a\"]}",
            "operator must be one of In, NotIn, Exists, DoesNotExist",
            "{\"key\": \"team\", \"operator\": \"NotIn\"}",
            "values must not be empty when operator is In or NotIn",
            "{\"key\": \"team\", \"operator\": \"In\", \"values\": []}",
            "values must not be empty when operator is In or NotIn",
            "{\"key\": \"team\", \"operator\": \"Exists\", \"values\": [\"a\"]}",
            "values must be empty when operator is Exists or DoesNotExist");
    refused.forEach(
        (expression, message) -> {
          GenericKubernetesResource policy =
              policy(
                  "bad-selector",
                  Map.of(
                      "namespaceSelector",
                      Map.of(
                          "matchExpressions",
                          List.of(Serialization.unmarshal(expression, Map.class)))));
          assertThatThrownBy(() -> client.resource(policy).dryRun().create())
              .as("namespaceSelector expression %s", expression)
              .isInstanceOf(KubernetesClientException.class)
              .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(422))
              .hasMessageContaining(message);
        });
  }

  @Test
  void acceptsEveryKindOfLabelSelectorExpression() {
    client
        .resource(
            policy(
                "good-selector",
                Map.of(
                    "namespaceSelector",
                    Map.of(
                        "matchLabels",
                        Map.of("tier", "batch"),
                        "matchExpressions",
                        List.of(
                            Map.of("key", "team", "operator", "In", "values", List.of("a", "b")),
                            Map.of("key", "env", "operator", "NotIn", "values", List.of("prod")),
                            Map.of("key", "shm", "operator", "Exists"),
                            Map.of(
                                "key",
                                "legacy",
                                "operator",
                                "DoesNotExist",
                                "values",
                                List.of()))))))
        .dryRun()
        .create();
  }

  @Test
  void rejectsSamePodMembersWithDifferentHostNetwork() {
    assertRejected(
        g -> {
          Map<String, Object> other = member("other");
          podSpec(other).put("hostNetwork", true);
          podSpec(firstMember(g)).put("hostNetwork", false);
          members(g).add(other);
        },
        "SamePod members become one pod: their pod templates must not set different hostNetwork");
  }

  @Test
  void rejectsPolicyWhoseDefaultIsStrongerThanItsCeiling() {
    GenericKubernetesResource policy = new GenericKubernetesResource();
    policy.setApiVersion("sharedipc.dev/v1alpha1");
    policy.setKind("SharedIpcPolicy");
    policy.setMetadata(
        new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("too-strong").build());
    policy.setAdditionalProperty(
        "spec",
        new java.util.HashMap<>(
            Map.of("defaultOrphanPolicy", "Delete", "strongestOrphanPolicy", "Report")));
    assertThatThrownBy(() -> client.resource(policy).dryRun().create())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining(
            "defaultOrphanPolicy must not be stronger than strongestOrphanPolicy");
  }

  @Test
  void placementCannotChangeOnceCreatedButTheRestOfTheSpecCan() {
    GenericKubernetesResource created =
        client.resource(validGroup("immutable-placement")).inNamespace(ns).create();
    spec(created).put("placement", "SameNode");
    assertThatThrownBy(() -> client.resource(created).inNamespace(ns).update())
        .isInstanceOf(KubernetesClientException.class)
        .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(422))
        .hasMessageContaining("placement is immutable");
    GenericKubernetesResource current =
        client
            .genericKubernetesResources("sharedipc.dev/v1alpha1", "SharedIpcGroup")
            .inNamespace(ns)
            .withName("immutable-placement")
            .get();
    spec(current).put("replicas", 3);
    GenericKubernetesResource scaled = client.resource(current).inNamespace(ns).update();
    assertThat(spec(scaled)).containsEntry("replicas", 3).containsEntry("placement", "SamePod");
  }

  /**
   * {@code kubectl scale sipc} changes spec.replicas, and the /scale subresource reads what the
   * operator reports.
   */
  @Test
  void kubectlScaleWorksAndScaleReadsTheStatusReplicasAndSelector() throws Exception {
    client.resource(validGroup("scalable")).inNamespace(ns).create();
    assertThat(kubectl("scale", "sipc", "scalable", "--replicas", "3", "-n", ns))
        .contains("scaled");
    assertThat(
            spec(
                client
                    .genericKubernetesResources("sharedipc.dev/v1alpha1", "SharedIpcGroup")
                    .inNamespace(ns)
                    .withName("scalable")
                    .get()))
        .containsEntry("replicas", 3);
    setStatus(
        "scalable",
        Map.of(
            "replicas",
            2,
            "selector",
            "app.kubernetes.io/managed-by=sharedipc-operator,sharedipc.dev/group=scalable"));
    String scale =
        kubectl(
            "get",
            "--subresource=scale",
            "sipc",
            "scalable",
            "-n",
            ns,
            "-o",
            "jsonpath={.spec.replicas} {.status.replicas} {.status.selector}");
    assertThat(scale)
        .isEqualTo(
            "3 2 app.kubernetes.io/managed-by=sharedipc-operator,sharedipc.dev/group=scalable");
  }

  /**
   * {@code kubectl get sipc -o wide} shows the memory accounting and policy reasons and the orphan
   * policy in effect.
   */
  @Test
  void wideListingShowsMemoryAccountingPolicyAndOrphanPolicy() throws Exception {
    client.resource(validGroup("wide")).inNamespace(ns).create();
    setStatus(
        "wide",
        Map.of(
            "conditions",
            List.of(
                condition("Ready", "False", "InstancesNotReady"),
                condition("MemoryAccounted", "False", "SharedMemoryNotAccounted"),
                condition("PolicyCompliant", "True", "Compliant")),
            "effectiveOrphanPolicy",
            Map.of("policy", "Delete", "gracePeriod", "10m", "source", "the group")));
    String table = kubectl("get", "sipc", "wide", "-n", ns, "-o", "wide");
    assertThat(table.lines().findFirst().orElseThrow())
        .contains("REASON", "MEMORY", "POLICY", "ORPHANS");
    assertThat(table)
        .contains("InstancesNotReady", "SharedMemoryNotAccounted", "Compliant", "Delete");
  }

  /** {@code kubectl get sipcpolicy} shows how many governed groups break the policy. */
  @Test
  void policyListingShowsTheViolatingCount() throws Exception {
    String name = "violations-" + ns;
    GenericKubernetesResource policy = new GenericKubernetesResource();
    policy.setApiVersion("sharedipc.dev/v1alpha1");
    policy.setKind("SharedIpcPolicy");
    policy.setMetadata(
        new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(name).build());
    policy.setAdditionalProperty("spec", new java.util.HashMap<>(Map.of("allowHostIPC", false)));
    client.resource(policy).create();
    GenericKubernetesResource current =
        client
            .genericKubernetesResources("sharedipc.dev/v1alpha1", "SharedIpcPolicy")
            .withName(name)
            .get();
    current.setAdditionalProperty("status", Map.of("matchedGroups", 5, "violatingGroups", 2));
    client.resource(current).updateStatus();
    String table = kubectl("get", "sipcpolicy", name);
    assertThat(table.lines().findFirst().orElseThrow()).contains("GROUPS", "VIOLATING");
    assertThat(table.lines().skip(1).findFirst().orElseThrow()).matches(".*\\s5\\s+2\\s.*");
  }

  private static Map<String, Object> condition(String type, String status, String reason) {
    return Map.of(
        "type",
        type,
        "status",
        status,
        "reason",
        reason,
        "message",
        "m",
        "lastTransitionTime",
        "2026-01-01T00:00:00Z");
  }

  private void setStatus(String group, Map<String, Object> status) {
    GenericKubernetesResource current =
        client
            .genericKubernetesResources("sharedipc.dev/v1alpha1", "SharedIpcGroup")
            .inNamespace(ns)
            .withName(group)
            .get();
    current.setAdditionalProperty("status", status);
    client.resource(current).inNamespace(ns).updateStatus();
  }

  /**
   * Runs the kubectl next to the API server's binaries; returns its output, failing on a non-zero
   * exit.
   */
  private static String kubectl(String... args) throws Exception {
    Path kubeconfig = api.writeKubeConfig(Files.createTempFile("crd-kubectl", ".kubeconfig"));
    List<String> command =
        new ArrayList<>(List.of(api.kubectl().toString(), "--kubeconfig", kubeconfig.toString()));
    command.addAll(List.of(args));
    Process kubectl = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output =
        new String(
            kubectl.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(kubectl.waitFor()).as("%s said:%n%s", command, output).isZero();
    return output;
  }

  // ---- helpers: a valid group as plain maps, so each test breaks exactly one thing ----

  static GenericKubernetesResource policy(String name, Map<String, Object> spec) {
    GenericKubernetesResource policy = new GenericKubernetesResource();
    policy.setApiVersion("sharedipc.dev/v1alpha1");
    policy.setKind("SharedIpcPolicy");
    policy.setMetadata(
        new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(name).build());
    policy.setAdditionalProperty("spec", new java.util.HashMap<>(spec));
    return policy;
  }

  private void assertRejected(Consumer<GenericKubernetesResource> breakIt, String expectedMessage) {
    GenericKubernetesResource group = validGroup("invalid");
    breakIt.accept(group);
    assertThatThrownBy(() -> client.resource(group).inNamespace(ns).dryRun().create())
        .isInstanceOf(KubernetesClientException.class)
        .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(422))
        .hasMessageContaining(expectedMessage);
  }

  static GenericKubernetesResource validGroup(String name) {
    GenericKubernetesResource group = new GenericKubernetesResource();
    group.setApiVersion("sharedipc.dev/v1alpha1");
    group.setKind("SharedIpcGroup");
    group.setMetadata(
        new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(name).build());
    Map<String, Object> spec = new java.util.HashMap<>();
    spec.put("sharedMemory", new java.util.HashMap<>(Map.of("size", "64Mi")));
    spec.put("segments", new java.util.HashMap<>());
    spec.put("members", new ArrayList<>(List.of(member("writer"))));
    group.setAdditionalProperty("spec", spec);
    return group;
  }

  static Map<String, Object> member(String name) {
    Map<String, Object> container =
        new java.util.HashMap<>(Map.of("name", name, "image", "busybox"));
    Map<String, Object> podSpec = new java.util.HashMap<>();
    podSpec.put("containers", new ArrayList<>(List.of(container)));
    Map<String, Object> template = new java.util.HashMap<>();
    template.put("spec", podSpec);
    Map<String, Object> member = new java.util.HashMap<>();
    member.put("name", name);
    member.put("template", template);
    return member;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> spec(GenericKubernetesResource g) {
    return (Map<String, Object>) g.getAdditionalProperties().get("spec");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> sharedMemory(GenericKubernetesResource g) {
    return (Map<String, Object>) spec(g).get("sharedMemory");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> segments(GenericKubernetesResource g) {
    return (Map<String, Object>) spec(g).get("segments");
  }

  @SuppressWarnings("unchecked")
  private static List<Object> members(GenericKubernetesResource g) {
    return (List<Object>) spec(g).get("members");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> firstMember(GenericKubernetesResource g) {
    return (Map<String, Object>) members(g).get(0);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> podSpec(Map<String, Object> member) {
    return (Map<String, Object>) ((Map<String, Object>) member.get("template")).get("spec");
  }
}
