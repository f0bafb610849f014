package dev.sharedipc.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.api.testing.RealApiServer;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcGroupStatus;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicy;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicySpec;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicyStatus;
import dev.sharedipc.operator.Fixtures;
import dev.sharedipc.operator.runtime.OperatorRuntime;
import dev.sharedipc.operator.runtime.OperatorSettings;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceAttributesBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The operator's RBAC as deploy/ renders it, on the real API server with its RBAC authorizer,
 * acting as the operator's ServiceAccount (impersonated, with the groups a token of it carries):
 * the operator starts, syncs its informers and takes its lease under it; the writes its code makes
 * succeed where it reconciles; with the watch-namespaces Component they fail everywhere else; and
 * verbs the code does not use are refused. (The E2E suite runs the whole operator under the base's
 * RBAC with a real token of the ServiceAccount.)
 */
class OperatorRbacIT {
  static final String NAMESPACE = "sharedipc-system";
  static final String USER = "system:serviceaccount:" + NAMESPACE + ":sharedipc-operator";
  static final List<String> GROUPS =
      List.of(
          "system:serviceaccounts", "system:serviceaccounts:" + NAMESPACE, "system:authenticated");

  /** Status writes as JOSDK makes them: server-side apply of the status subresource. */
  static final PatchContext SSA =
      new PatchContext.Builder()
          .withPatchType(PatchType.SERVER_SIDE_APPLY)
          .withFieldManager("sharedipc-rbac-it")
          .withForce(true)
          .build();

  static final Set<String> RBAC_KINDS =
      Set.of("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding");

  private final RealApiServer api = RealApiServer.shared();
  private final KubernetesClient admin = api.client();
  private final List<HasMetadata> applied = new ArrayList<>();

  @AfterEach
  void removeRbac() {
    // Both renders name their objects alike: each test starts from none of them.
    applied.forEach(
        o -> admin.resource(o).withTimeout(30, java.util.concurrent.TimeUnit.SECONDS).delete());
  }

  @Test
  void baseRbacLetsTheOperatorRunAndWriteInEveryNamespaceAndNoMore() throws Exception {
    List<HasMetadata> objects = Kustomized.render(api, "deploy");
    apply(objects);
    String ns = api.newNamespace("rbac-all");
    try (KubernetesClient operator = asOperator()) {
      runsUnder(operator, watchNamespaces(objects));
      writesSucceed(operator, ns);
      unusedVerbsAreRefused(ns);
    }
  }

  @Test
  void withTheWatchNamespacesComponentTheOperatorWritesOnlyInItsNamespaces() throws Exception {
    List<HasMetadata> objects =
        Kustomized.renderWithComponent(api, "deploy", "deploy/watch-namespaces");
    List<String> watched = watchNamespaces(objects);
    assertThat(watched).containsExactly("team-a", "team-b");
    watched.stream()
        .filter(n -> admin.namespaces().withName(n).get() == null)
        .forEach(
            n ->
                admin
                    .namespaces()
                    .resource(
                        new NamespaceBuilder().withNewMetadata().withName(n).endMetadata().build())
                    .create());
    assertThat(objects)
        .noneMatch(
            o ->
                o.getKind().equals("ClusterRoleBinding")
                    && o.getMetadata().getName().equals("sharedipc-operator-watched-namespaces"));
    apply(objects);
    String unwatched = api.newNamespace("rbac-unwatched");
    try (KubernetesClient operator = asOperator()) {
      runsUnder(operator, watched);
      writesSucceed(operator, "team-a");
      writesSucceed(operator, "team-b");
      writesAreForbidden(operator, unwatched);
      // Reads stay cluster-wide: SameNode placement weighs every pod on a node.
      assertThat(operator.pods().inNamespace(unwatched).list().getItems()).isNotNull();
      unusedVerbsAreRefused("team-a");
    }
  }

  /**
   * Applies the operator's ServiceAccount and RBAC of a render (and the namespace they live in).
   */
  private void apply(List<HasMetadata> objects) {
    if (admin.namespaces().withName(NAMESPACE).get() == null) {
      admin
          .namespaces()
          .resource(
              new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build())
          .create();
    }
    objects.stream()
        .filter(
            o ->
                RBAC_KINDS.contains(o.getKind())
                    && o.getMetadata().getName().startsWith("sharedipc-operator"))
        .forEach(
            o -> {
              applied.add(o);
              admin.resource(o).forceConflicts().serverSideApply();
            });
  }

  /** SHAREDIPC_WATCH_NAMESPACES of the rendered operator Deployment; empty: all namespaces. */
  private static List<String> watchNamespaces(List<HasMetadata> objects) {
    Deployment deployment = Kustomized.one(objects, Deployment.class, "sharedipc-operator");
    return deployment.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
        .filter(e -> e.getName().equals("SHAREDIPC_WATCH_NAMESPACES"))
        .map(EnvVar::getValue)
        .flatMap(v -> java.util.Arrays.stream(v.split(",")))
        .toList();
  }

  /** A client that the API server takes for the operator's ServiceAccount. */
  private KubernetesClient asOperator() {
    Config config = Config.fromKubeconfig(api.kubeConfigYaml());
    config.setImpersonateUsername(USER);
    config.setImpersonateGroups(GROUPS.toArray(String[]::new));
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  /**
   * The operator as the Deployment runs it (leader election in its namespace, the rendered
   * namespaces) starts under these rights: every informer lists and watches, the lease is taken.
   */
  private static void runsUnder(KubernetesClient client, List<String> namespaces) throws Exception {
    OperatorSettings settings = new OperatorSettings();
    settings.leaderElection = true;
    settings.leaderElectionNamespace = NAMESPACE;
    settings.exitOnLostLease = false;
    settings.namespaces = namespaces;
    settings.httpAddress = "127.0.0.1";
    settings.httpPort = 0;
    try (OperatorRuntime runtime = OperatorRuntime.start(settings, client)) {
      await("the operator ready and leading as " + USER)
          .atMost(Duration.ofSeconds(60))
          .until(() -> runtime.isReady() && runtime.isStarted());
      // And it keeps the lease: renewals (every 2 s) go through.
      java.time.ZonedDateTime renewed = lease(client).getSpec().getRenewTime();
      await("the lease renewed as " + USER)
          .atMost(Duration.ofSeconds(15))
          .until(() -> lease(client).getSpec().getRenewTime().isAfter(renewed));
      assertThat(runtime.isStarted()).isTrue();
    }
    // Handed back on stop.
    assertThat(lease(client).getSpec().getHolderIdentity()).isNull();
  }

  private static io.fabric8.kubernetes.api.model.coordination.v1.Lease lease(
      KubernetesClient client) {
    return client.leases().inNamespace(NAMESPACE).withName(OperatorRuntime.LEASE_NAME).get();
  }

  /** The calls the operator's code makes in a namespace whose groups it reconciles. */
  private void writesSucceed(KubernetesClient operator, String ns) {
    SharedIpcGroup group =
        admin
            .resource(Fixtures.forCluster("rbac-" + System.nanoTime() % 100_000, 0, "64Mi"))
            .inNamespace(ns)
            .create();
    await("writes allowed in " + ns)
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              Pod pod = operator.pods().inNamespace(ns).resource(pod()).create();
              operator.pods().inNamespace(ns).withName(pod.getMetadata().getName()).delete();
              Pod evicted = operator.pods().inNamespace(ns).resource(pod()).create();
              assertThat(
                      operator
                          .pods()
                          .inNamespace(ns)
                          .withName(evicted.getMetadata().getName())
                          .evict())
                  .as("eviction allowed")
                  .isTrue();
              operator
                  .resource(statusOnly(group))
                  .subresource("status")
                  .patch(SSA, statusOnly(group));
              operator.v1().events().inNamespace(ns).resource(event(group)).create();
            });
    SharedIpcPolicy policy = new SharedIpcPolicy();
    policy.setMetadata(new ObjectMeta());
    policy.getMetadata().setName("rbac-" + ns);
    policy.setSpec(new SharedIpcPolicySpec());
    policy = admin.resource(policy).create();
    SharedIpcPolicy policyStatus = new SharedIpcPolicy();
    policyStatus.setMetadata(new ObjectMeta());
    policyStatus.getMetadata().setName(policy.getMetadata().getName());
    policyStatus.setStatus(new SharedIpcPolicyStatus());
    policyStatus.getStatus().setObservedGeneration(policy.getMetadata().getGeneration());
    operator.resource(policyStatus).subresource("status").patch(SSA, policyStatus);
    admin.resource(policy).delete();
  }

  /** Outside its namespaces the operator can read, but create and delete nothing. */
  private void writesAreForbidden(KubernetesClient operator, String ns) {
    SharedIpcGroup group =
        admin.resource(Fixtures.forCluster("rbac-elsewhere", 0, "64Mi")).inNamespace(ns).create();
    Pod existing = admin.pods().inNamespace(ns).resource(pod()).create();
    await("writes forbidden in " + ns)
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              assertForbidden(() -> operator.pods().inNamespace(ns).resource(pod()).create());
              assertForbidden(
                  () ->
                      operator
                          .pods()
                          .inNamespace(ns)
                          .withName(existing.getMetadata().getName())
                          .delete());
              assertForbidden(
                  () ->
                      operator
                          .pods()
                          .inNamespace(ns)
                          .withName(existing.getMetadata().getName())
                          .evict());
              assertForbidden(
                  () ->
                      operator
                          .resource(statusOnly(group))
                          .subresource("status")
                          .patch(SSA, statusOnly(group)));
              assertForbidden(
                  () -> operator.v1().events().inNamespace(ns).resource(event(group)).create());
            });
    assertThat(admin.pods().inNamespace(ns).withName(existing.getMetadata().getName()).get())
        .isNotNull();
  }

  private static void assertForbidden(org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
  }

  /** Verbs the code does not use (status is patched by server-side apply, Events only created). */
  private void unusedVerbsAreRefused(String ns) {
    await("unused verbs refused in " + ns)
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              assertThat(allowed("update", "sharedipc.dev", "sharedipcgroups", "status", ns))
                  .as("update groups/status")
                  .isFalse();
              assertThat(allowed("get", "sharedipc.dev", "sharedipcgroups", "status", ns))
                  .as("get groups/status")
                  .isFalse();
              assertThat(allowed("update", "sharedipc.dev", "sharedipcpolicies", "status", null))
                  .as("update policies/status")
                  .isFalse();
              assertThat(allowed("patch", "", "events", "", ns)).as("patch events").isFalse();
              assertThat(allowed("update", "", "pods", "", ns)).as("update pods").isFalse();
              assertThat(allowed("create", "sharedipc.dev", "sharedipcgroups", "", ns))
                  .as("create groups")
                  .isFalse();
              assertThat(allowed("list", "", "secrets", "", ns)).as("list secrets").isFalse();
            });
    // And the ones it uses are allowed: the same question, answered yes.
    assertThat(allowed("create", "", "pods", "", ns)).isTrue();
    assertThat(allowed("patch", "sharedipc.dev", "sharedipcgroups", "status", ns)).isTrue();
  }

  private boolean allowed(
      String verb, String group, String resource, String subresource, String ns) {
    SubjectAccessReview review =
        new SubjectAccessReviewBuilder()
            .withNewSpec()
            .withUser(USER)
            .withGroups(GROUPS)
            .withResourceAttributes(
                new ResourceAttributesBuilder()
                    .withVerb(verb)
                    .withGroup(group)
                    .withResource(resource)
                    .withSubresource(subresource)
                    .withNamespace(ns)
                    .build())
            .endSpec()
            .build();
    return admin.resource(review).create().getStatus().getAllowed();
  }

  private static Pod pod() {
    return new PodBuilder()
        .withNewMetadata()
        .withGenerateName("rbac-")
        .endMetadata()
        .withNewSpec()
        .addNewContainer()
        .withName("c")
        .withImage("busybox:1.36")
        .endContainer()
        .endSpec()
        .build();
  }

  /**
   * A status-only object, as the reconciler applies it (server-side apply of name, namespace and
   * status).
   */
  private static SharedIpcGroup statusOnly(SharedIpcGroup group) {
    SharedIpcGroup patch = new SharedIpcGroup();
    patch.setMetadata(new ObjectMeta());
    patch.getMetadata().setName(group.getMetadata().getName());
    patch.getMetadata().setNamespace(group.getMetadata().getNamespace());
    patch.setStatus(new SharedIpcGroupStatus());
    patch.getStatus().setObservedGeneration(group.getMetadata().getGeneration());
    return patch;
  }

  private static io.fabric8.kubernetes.api.model.Event event(SharedIpcGroup group) {
    return new EventBuilder()
        .withNewMetadata()
        .withGenerateName(group.getMetadata().getName() + ".")
        .endMetadata()
        .withNewInvolvedObject()
        .withApiVersion(group.getApiVersion())
        .withKind(group.getKind())
        .withName(group.getMetadata().getName())
        .withNamespace(group.getMetadata().getNamespace())
        .withUid(group.getMetadata().getUid())
        .endInvolvedObject()
        .withType("Normal")
        .withReason("RbacCheck")
        .withMessage("rbac check")
        .build();
  }
}
