package dev.sharedipc.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.api.RepoPaths;
import dev.sharedipc.api.testing.RealApiServer;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Helm chart in charts/sharedipc carries the same objects as the kustomize base in deploy/:
 * rendered with the Helm built by scripts/helm.sh, with default values it gives the same (kind,
 * namespace, name) set and, apart from Helm's own labels, the same objects; the real API server
 * accepts every one with server-side dry run; `helm lint` passes; values change the render.
 */
class HelmChartIT {
  static final String CHART = "charts/sharedipc";
  static final String RELEASE = "sharedipc";
  static final String NAMESPACE = "sharedipc-system";

  /** Label keys the chart adds to deploy/'s: Helm's standard labels. */
  static final Set<String> HELM_LABELS =
      Set.of(
          "helm.sh/chart",
          "app.kubernetes.io/managed-by",
          "app.kubernetes.io/instance",
          "app.kubernetes.io/version");

  private static RealApiServer api;
  private static Path helm;
  private static String kubeVersion;
  private static List<HasMetadata> chart;
  private static List<HasMetadata> kustomize;

  @BeforeAll
  static void render() throws IOException, InterruptedException {
    api = RealApiServer.shared();
    helm = ensureHelm();
    // Render for the API server the objects go to (Capabilities.KubeVersion, the chart's
    // kubeVersion).
    kubeVersion = api.client().getKubernetesVersion().getGitVersion();
    chart = load(helmTemplate());
    kustomize = Kustomized.render(api, "deploy");
  }

  // ---- (a) the same objects --------------------------------------------------------------------

  @Test
  void defaultRenderHasTheObjectsOfTheKustomizeBaseButTheReleaseNamespace() {
    // Helm makes the release namespace (--create-namespace), so by default the chart does not.
    assertThat(keys(chart))
        .as("(kind, namespace, name) of helm template vs kubectl kustomize deploy/")
        .containsExactlyInAnyOrderElementsOf(
            keys(kustomize).stream().filter(k -> !k.equals("Namespace//" + NAMESPACE)).toList());
  }

  // ---- (b) the same specs, apart from Helm's labels ---------------------------------------------

  @Test
  void everyObjectEqualsItsKustomizeTwinApartFromHelmLabels() {
    List<String> compared = assertSameObjects(chart, withoutReleaseNamespace(kustomize));
    // Workloads, RBAC, admission policies and Services among them.
    assertThat(compared)
        .contains(
            "Deployment/sharedipc-system/sharedipc-operator",
            "DaemonSet/sharedipc-agent/sharedipc-agent",
            "ClusterRole//sharedipc-operator",
            "ClusterRole//sharedipc-operator-watched-namespaces",
            "ClusterRoleBinding//sharedipc-operator-watched-namespaces",
            "ClusterRole//sharedipc-agent",
            "Role/sharedipc-system/sharedipc-operator-leader-election",
            "ValidatingAdmissionPolicy//sharedipc-agent-writes-own-node-only",
            "Service/sharedipc-agent/sharedipc-agent-metrics");
  }

  @Test
  void watchNamespacesRenderEqualsTheKustomizeComponent() throws IOException, InterruptedException {
    List<HasMetadata> helmRender =
        load(helmTemplate("--set", "operator.watchNamespaces={team-a,team-b}"));
    List<HasMetadata> kustomizeRender =
        Kustomized.renderWithComponent(api, "deploy", "deploy/watch-namespaces");
    assertThat(keys(helmRender))
        .containsExactlyInAnyOrderElementsOf(keys(withoutReleaseNamespace(kustomizeRender)));
    List<String> compared = assertSameObjects(helmRender, withoutReleaseNamespace(kustomizeRender));
    // Pod writes bound in the watched namespaces, not cluster-wide.
    assertThat(compared)
        .contains(
            "RoleBinding/team-a/sharedipc-operator-watched-namespaces",
            "RoleBinding/team-b/sharedipc-operator-watched-namespaces",
            "Deployment/sharedipc-system/sharedipc-operator")
        .doesNotContain("ClusterRoleBinding//sharedipc-operator-watched-namespaces");
  }

  /**
   * Each kustomize object has a chart twin equal to it apart from Helm's labels; returns their
   * keys.
   */
  @SuppressWarnings("unchecked")
  private static List<String> assertSameObjects(
      List<HasMetadata> helmObjects, List<HasMetadata> kustomizeObjects) {
    Map<String, HasMetadata> ours = byKey(helmObjects);
    Map<String, HasMetadata> theirs = byKey(kustomizeObjects);
    List<String> compared = new ArrayList<>();
    for (Map.Entry<String, HasMetadata> e : theirs.entrySet()) {
      HasMetadata mine = ours.get(e.getKey());
      assertThat(mine).as("chart object %s", e.getKey()).isNotNull();
      Map<String, Object> expected = normalized(e.getValue());
      if (mine.getKind().equals("CustomResourceDefinition")) {
        // crds/ files are not templates: they carry no labels at all (kustomize adds part-of).
        labelsOf(expected).remove("app.kubernetes.io/part-of");
        if (labelsOf(expected).isEmpty()) {
          ((Map<String, Object>) expected.get("metadata")).remove("labels");
        }
      }
      assertThat(normalized(mine))
          .as("%s in the chart vs deploy/ (Helm's labels dropped)", e.getKey())
          .isEqualTo(expected);
      compared.add(e.getKey());
    }
    return compared;
  }

  @Test
  void templatedObjectsCarryTheStandardLabels() {
    chart.stream()
        .filter(o -> !o.getKind().equals("CustomResourceDefinition"))
        .forEach(
            o ->
                assertThat(o.getMetadata().getLabels())
                    .as("labels of %s %s", o.getKind(), o.getMetadata().getName())
                    .containsEntry("helm.sh/chart", "sharedipc-0.1.0")
                    .containsEntry("app.kubernetes.io/managed-by", "Helm")
                    .containsEntry("app.kubernetes.io/instance", RELEASE)
                    .containsEntry("app.kubernetes.io/version", "0.1.0")
                    .containsEntry("app.kubernetes.io/part-of", "sharedipc"));
  }

  @Test
  void chartCrdsAreByteForByteTheGeneratedOnes() throws IOException {
    Path generated = RepoPaths.root().resolve("crds");
    Path copied = RepoPaths.root().resolve(CHART).resolve("crds");
    List<String> names;
    try (Stream<Path> files = Files.list(generated)) {
      names =
          files
              .map(p -> p.getFileName().toString())
              .filter(n -> n.endsWith(".sharedipc.dev.yaml"))
              .sorted()
              .toList();
    }
    try (Stream<Path> files = Files.list(copied)) {
      assertThat(files.map(p -> p.getFileName().toString()).sorted().toList())
          .as(
              "%s holds exactly the CRD files of crds/ (copy them after scripts/update-crds.sh)",
              copied)
          .isEqualTo(names);
    }
    assertThat(names).hasSize(3);
    for (String name : names) {
      assertThat(Files.readString(copied.resolve(name)))
          .as("%s/%s equals crds/%s", copied, name, name)
          .isEqualTo(Files.readString(generated.resolve(name)));
    }
  }

  // ---- (c) the real API server accepts them
  // ------------------------------------------------------

  @Test
  void everyObjectIsAcceptedByTheApiServerWithServerSideDryRun() {
    KubernetesClient client = api.client();
    // Namespaced dry runs are judged only in namespaces that exist: create them for real first.
    Stream.concat(
            Stream.of(NAMESPACE),
            chart.stream()
                .filter(o -> o.getKind().equals("Namespace"))
                .map(o -> o.getMetadata().getName()))
        .filter(n -> client.namespaces().withName(n).get() == null)
        .forEach(
            n ->
                client
                    .namespaces()
                    .resource(
                        new NamespaceBuilder().withNewMetadata().withName(n).endMetadata().build())
                    .create());
    for (HasMetadata object : chart) {
      HasMetadata accepted = client.resource(object).dryRun().forceConflicts().serverSideApply();
      assertThat(accepted.getMetadata().getName())
          .as("%s %s", object.getKind(), object.getMetadata().getName())
          .isEqualTo(object.getMetadata().getName());
    }
  }

  @Test
  void rbacUsesNoWildcards() {
    List<PolicyRule> rules =
        chart.stream()
            .flatMap(
                o ->
                    o instanceof ClusterRole c
                        ? c.getRules().stream()
                        : o instanceof Role r ? r.getRules().stream() : Stream.empty())
            .toList();
    // 15, plus the agent's tokenreviews and subjectaccessreviews (for /segments) and
    // sharedipc-segments-reader's one rule
    assertThat(rules)
        .hasSize(18)
        .allSatisfy(
            rule -> {
              assertThat(rule.getVerbs()).doesNotContain("*");
              assertThat(rule.getResources()).doesNotContain("*");
              assertThat(rule.getApiGroups()).doesNotContain("*");
              assertThat(rule.getResources()).doesNotContain("secrets");
            });
  }

  // ---- (d) helm lint ----------------------------------------------------------------------------

  @Test
  void helmLintPassesStrictly() throws IOException, InterruptedException {
    Result lint =
        run(
            List.of(
                helm.toString(),
                "lint",
                "--strict",
                "--kube-version",
                kubeVersion,
                chartDir().toString()));
    assertThat(lint.exit).as("helm lint --strict output:\n%s", lint.out).isZero();
    assertThat(lint.out)
        .contains("1 chart(s) linted, 0 chart(s) failed")
        .doesNotContain("[WARNING]", "[ERROR]");
  }

  // ---- (e) values change the render
  // ---------------------------------------------------------------

  @Test
  void valuesOverridesShowInTheRender() throws IOException, InterruptedException {
    List<HasMetadata> objects =
        load(
            helmTemplate(
                "--set",
                "operator.replicas=3",
                "--set",
                "agent.dryRun=true",
                "--set",
                "operator.logLevel=DEBUG",
                "--set",
                "operator.watchNamespaces={team-a,team-b}",
                "--set",
                "operator.leaderElection=false",
                "--set",
                "operator.image.tag=0.2.0",
                "--set",
                "agent.sharedRoot=/run/sharedipc",
                "--set",
                "agent.interval=1m",
                "--set",
                "agent.nodeSelector.sharedipc\\.dev/agent=yes",
                "--set",
                "agent.tolerations=null",
                "--set",
                "monitoring.enabled=false"));
    Deployment operator = Kustomized.one(objects, Deployment.class, "sharedipc-operator");
    assertThat(operator.getSpec().getReplicas()).isEqualTo(3);
    var container = operator.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(container.getImage()).isEqualTo("ghcr.io/sharedipc/operator:0.2.0");
    assertThat(container.getEnv())
        .extracting(EnvVar::getName, EnvVar::getValue)
        .contains(
            org.assertj.core.groups.Tuple.tuple("SHAREDIPC_LEADER_ELECTION", "false"),
            org.assertj.core.groups.Tuple.tuple("SHAREDIPC_LOG_LEVEL", "DEBUG"),
            org.assertj.core.groups.Tuple.tuple("SHAREDIPC_WATCH_NAMESPACES", "team-a,team-b"),
            // The operator and the agents must agree on the SameNode directories' root.
            org.assertj.core.groups.Tuple.tuple("SHAREDIPC_NODE_SHARED_ROOT", "/run/sharedipc"));
    // No leader election: no Role for the lease. Watched namespaces: the operator's writes are
    // bound
    // there, by one RoleBinding each, instead of cluster-wide.
    assertThat(objects)
        .noneMatch(o -> o.getKind().equals("Role"))
        .noneMatch(o -> o.getKind().equals("Service"))
        .noneMatch(
            o ->
                o.getKind().equals("ClusterRoleBinding")
                    && o.getMetadata().getName().equals("sharedipc-operator-watched-namespaces"));
    assertThat(objects)
        .filteredOn(o -> o.getKind().equals("RoleBinding"))
        .extracting(o -> o.getMetadata().getNamespace() + "/" + o.getMetadata().getName())
        .containsExactlyInAnyOrder(
            "team-a/sharedipc-operator-watched-namespaces",
            "team-b/sharedipc-operator-watched-namespaces");

    DaemonSet agent = Kustomized.one(objects, DaemonSet.class, "sharedipc-agent");
    var pod = agent.getSpec().getTemplate().getSpec();
    assertThat(pod.getContainers().get(0).getArgs())
        .contains("--dry-run")
        .containsSequence("--interval", "1m")
        .containsSequence("--shared-root", "/run/sharedipc");
    assertThat(pod.getVolumes())
        .anySatisfy(v -> assertThat(v.getHostPath().getPath()).isEqualTo("/run/sharedipc"));
    assertThat(pod.getContainers().get(0).getVolumeMounts())
        .anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/run/sharedipc"));
    assertThat(pod.getNodeSelector()).containsExactly(Map.entry("sharedipc.dev/agent", "yes"));
    assertThat(pod.getTolerations()).isNullOrEmpty();

    // The defaults have none of it.
    DaemonSet defaultAgent = Kustomized.one(chart, DaemonSet.class, "sharedipc-agent");
    assertThat(defaultAgent.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs())
        .doesNotContain("--dry-run");

    // And the overridden render is still accepted by the API server.
    KubernetesClient client = api.client();
    for (HasMetadata object : objects) {
      if (object.getKind().equals("Namespace")
          && client.namespaces().withName(object.getMetadata().getName()).get() == null) {
        continue; // created by the dry-run test; not needed for cluster-scoped objects
      }
      if (object.getMetadata().getNamespace() != null
          && client.namespaces().withName(object.getMetadata().getNamespace()).get() == null) {
        continue;
      }
      assertThat(client.resource(object).dryRun().forceConflicts().serverSideApply()).isNotNull();
    }
  }

  @Test
  void withNamespacesOperatorCreateTheRenderEqualsTheKustomizeBase()
      throws IOException, InterruptedException {
    // For `helm template | kubectl apply`: the chart then owns the operator's Namespace too.
    List<HasMetadata> objects = load(helmTemplate("--set", "namespaces.operator.create=true"));
    assertThat(keys(objects)).containsExactlyInAnyOrderElementsOf(keys(kustomize));
    assertSameObjects(objects, kustomize);
  }

  @Test
  void noDisruptionBudgetSelectsTheAgent() {
    // A budget on DaemonSet pods stays SyncFailed and refuses every eviction (InstallCommandsIT
    // evicts one).
    assertThat(chart)
        .filteredOn(o -> o.getKind().equals("PodDisruptionBudget"))
        .extracting(o -> o.getMetadata().getName())
        .containsExactly("sharedipc-operator");
  }

  @Test
  void anotherAgentNamespaceMovesTheAgentAndItsAdmissionRule()
      throws IOException, InterruptedException {
    List<HasMetadata> objects = load(helmTemplate("--set", "agent.namespace=node-agents"));
    assertThat(objects)
        .filteredOn(o -> o.getMetadata().getNamespace() != null)
        .allSatisfy(o -> assertThat(o.getMetadata().getNamespace()).isIn(NAMESPACE, "node-agents"))
        .anySatisfy(o -> assertThat(o.getKind()).isEqualTo("DaemonSet"));
    String vap =
        yamlOf(
            objects.stream()
                .filter(
                    o ->
                        o.getMetadata().getName().equals("sharedipc-agent-writes-own-node-only")
                            && o.getKind().equals("ValidatingAdmissionPolicy"))
                .findFirst()
                .orElseThrow());
    assertThat(vap).contains("system:serviceaccount:node-agents:sharedipc-agent");
  }

  // ---- helpers
  // -----------------------------------------------------------------------------------

  /** The helm binary: scripts/helm.sh builds it from Go modules when the cache has none. */
  static Path ensureHelm() throws IOException, InterruptedException {
    Path script = RepoPaths.root().resolve("scripts/helm.sh");
    Result path = run(List.of("bash", script.toString(), "path"));
    assertThat(path.exit).as("%s path: %s", script, path.out).isZero();
    Path binary =
        Path.of(path.out.lines().filter(l -> l.startsWith("/")).reduce((a, b) -> b).orElseThrow());
    // `ensure` is a no-op (two file tests) when the binary and its stamp are there; else it builds.
    System.err.println(
        "[sharedipc] "
            + script
            + " ensure (builds Helm from Go modules if "
            + binary
            + " is missing; ~2-5 min)");
    ProcessBuilder pb = new ProcessBuilder("bash", script.toString(), "ensure").inheritIO();
    Process ensure = pb.start();
    if (!ensure.waitFor(30, TimeUnit.MINUTES)) {
      ensure.destroyForcibly();
      throw new IllegalStateException(script + " ensure did not finish within 30 minutes");
    }
    if (ensure.exitValue() != 0 || !Files.isExecutable(binary)) {
      String reason =
          script + " ensure failed with exit code " + ensure.exitValue() + " (its output is above)";
      if ("true".equalsIgnoreCase(System.getenv("CI"))) {
        throw new IllegalStateException(reason + " (CI=true: the chart tests must run, not skip)");
      }
      Assumptions.abort(reason);
    }
    return binary;
  }

  /** deploy/ minus the operator's Namespace, which Helm makes by default instead of the chart. */
  private static List<HasMetadata> withoutReleaseNamespace(List<HasMetadata> objects) {
    return objects.stream().filter(o -> !key(o).equals("Namespace//" + NAMESPACE)).toList();
  }

  private static Path chartDir() {
    return RepoPaths.root().resolve(CHART);
  }

  private static String helmTemplate(String... extra) throws IOException, InterruptedException {
    List<String> command =
        new ArrayList<>(
            List.of(
                helm.toString(),
                "template",
                RELEASE,
                chartDir().toString(),
                "--namespace",
                NAMESPACE,
                "--include-crds",
                "--kube-version",
                kubeVersion));
    command.addAll(List.of(extra));
    Result r = run(command);
    assertThat(r.exit).as("%s\n%s", String.join(" ", command), r.err).isZero();
    return r.out;
  }

  private static List<HasMetadata> load(String yaml) {
    return api.client()
        .load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)))
        .items();
  }

  /** A finished command's exit code and output (ManifestLintIT runs its tools with it too). */
  record Result(int exit, String out, String err) {}

  static Result run(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).start();
    // Both streams at once: a chatty stderr must not block the process.
    CompletableFuture<byte[]> err =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return p.getErrorStream().readAllBytes();
              } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            });
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("%s finished", command).isTrue();
    return new Result(p.exitValue(), out, new String(err.join(), StandardCharsets.UTF_8));
  }

  private static String key(HasMetadata o) {
    return o.getKind()
        + "/"
        + (o.getMetadata().getNamespace() == null ? "" : o.getMetadata().getNamespace())
        + "/"
        + o.getMetadata().getName();
  }

  private static List<String> keys(List<HasMetadata> objects) {
    return objects.stream().map(HelmChartIT::key).toList();
  }

  private static Map<String, HasMetadata> byKey(List<HasMetadata> objects) {
    Map<String, HasMetadata> map = new TreeMap<>();
    objects.forEach(o -> assertThat(map.put(key(o), o)).as("duplicate %s", key(o)).isNull());
    return map;
  }

  private static String yamlOf(HasMetadata o) {
    return api.client().getKubernetesSerialization().asYaml(o);
  }

  /**
   * The object as plain maps, with Helm's label keys dropped from every metadata.labels in it, CEL
   * whitespace folded.
   */
  @SuppressWarnings("unchecked")
  private static Map<String, Object> normalized(HasMetadata o) {
    KubernetesSerialization serialization = api.client().getKubernetesSerialization();
    Map<String, Object> map = serialization.unmarshal(serialization.asJson(o), LinkedHashMap.class);
    dropHelmLabels(map);
    return map;
  }

  @SuppressWarnings("unchecked")
  private static void dropHelmLabels(Object node) {
    if (node instanceof Map<?, ?> m) {
      Object metadata = m.get("metadata");
      if (metadata instanceof Map<?, ?> md && md.get("labels") instanceof Map<?, ?> labels) {
        ((Map<String, Object>) labels).keySet().removeAll(HELM_LABELS);
        if (labels.isEmpty()) {
          ((Map<String, Object>) md).remove("labels");
        }
      }
      // CEL ignores whitespace, and kustomize (kyaml) doubles the line break before a more-indented
      // line of a folded (>-) scalar where Helm keeps the YAML meaning: compare CEL text by its
      // words.
      for (String cel : List.of("expression", "messageExpression")) {
        if (m.get(cel) instanceof String text) {
          ((Map<String, Object>) m).put(cel, text.strip().replaceAll("\\s+", " "));
        }
      }
      m.values().forEach(HelmChartIT::dropHelmLabels);
    } else if (node instanceof List<?> l) {
      l.forEach(HelmChartIT::dropHelmLabels);
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> labelsOf(Map<String, Object> object) {
    return (Map<String, Object>) ((Map<String, Object>) object.get("metadata")).get("labels");
  }
}
