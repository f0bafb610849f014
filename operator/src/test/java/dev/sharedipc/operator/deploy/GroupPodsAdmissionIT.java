package dev.sharedipc.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.api.CsiVolume;
import dev.sharedipc.api.testing.RealApiServer;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The ValidatingAdmissionPolicy sharedipc-group-pods-by-the-operator-only of deploy/, on the real
 * API server: a user who may create pods in a namespace cannot create one with a shm.sharedipc.dev
 * volume or controlled by a SharedIpcGroup (the metadata the CSI driver's membership check trusts),
 * nor give an existing pod such a controller; the operator's ServiceAccount and cluster admins can,
 * and every other change of a group's pods (labels, dropping the reference) stays open.
 */
class GroupPodsAdmissionIT {
  private static final String POLICY = "sharedipc-group-pods-by-the-operator-only";
  private static final String ALICE = "alice";

  private static RealApiServer api;
  private static KubernetesClient admin;
  private static List<HasMetadata> policy;
  private static String namespace;

  /** A real group, so that the garbage collector keeps the pods it controls. */
  private static String groupUid;

  @BeforeAll
  static void applyThePolicy() throws Exception {
    api = RealApiServer.shared();
    admin = api.client();
    policy =
        Kustomized.render(api, "deploy").stream()
            .filter(
                o ->
                    o.getKind().startsWith("ValidatingAdmissionPolicy")
                        && o.getMetadata().getName().equals(POLICY))
            .toList();
    assertThat(policy).as("the policy and its binding in deploy/").hasSize(2);
    policy.forEach(o -> admin.resource(o).forceConflicts().serverSideApply());
    namespace = api.newNamespace("forged-members");
    groupUid =
        admin
            .resource(dev.sharedipc.operator.Fixtures.forCluster("frames", 0, "64Mi"))
            .inNamespace(namespace)
            .create()
            .getMetadata()
            .getUid();
    // Alice and the operator may write pods here: what admission adds is the point.
    admin
        .rbac()
        .roles()
        .inNamespace(namespace)
        .resource(
            new RoleBuilder()
                .withNewMetadata()
                .withName("pod-writer")
                .endMetadata()
                .addNewRule()
                .withApiGroups("")
                .withResources("pods")
                .withVerbs("create", "get", "patch", "update")
                .endRule()
                .build())
        .create();
    admin
        .rbac()
        .roleBindings()
        .inNamespace(namespace)
        .resource(
            new RoleBindingBuilder()
                .withNewMetadata()
                .withName("pod-writers")
                .endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "Role", "pod-writer")
                .addNewSubject()
                .withApiGroup("rbac.authorization.k8s.io")
                .withKind("User")
                .withName(ALICE)
                .endSubject()
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName("sharedipc-operator")
                .withNamespace(OperatorRbacIT.NAMESPACE)
                .endSubject()
                .build())
        .create();
  }

  @AfterAll
  static void removeThePolicy() {
    if (policy != null) {
      policy.forEach(o -> admin.resource(o).delete());
    }
  }

  @Test
  void onlyTheOperatorOrAnAdminMakesAGroupsPods() {
    try (KubernetesClient alice = as(ALICE, List.of("system:authenticated"));
        KubernetesClient operator = as(OperatorRbacIT.USER, OperatorRbacIT.GROUPS)) {
      // The policy takes effect once the API server has loaded and type-checked it.
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () ->
                  assertThatThrownBy(() -> dryRunCreate(alice, pod("forged-volume", true, false)))
                      .isInstanceOf(KubernetesClientException.class)
                      .hasMessageContaining(
                          "only the sharedipc operator may create pods with a shm.sharedipc.dev"
                              + " volume (alice may not)"));
      assertThatThrownBy(() -> dryRunCreate(alice, pod("forged-owner", false, true)))
          .hasMessageContaining(
              "only the sharedipc operator may make a pod controlled by a SharedIpcGroup (alice"
                  + " may not)");
      assertThat(dryRunCreate(alice, pod("plain", false, false))).isNotNull();
      assertThat(dryRunCreate(operator, pod("member", true, true))).isNotNull();
      assertThat(dryRunCreate(admin, pod("by-an-admin", true, true))).isNotNull();

      // A group's pod, made by the operator: others may still relabel it or drop its controller.
      operator.pods().inNamespace(namespace).resource(pod("member-0", true, true)).create();
      assertThat(
              alice
                  .pods()
                  .inNamespace(namespace)
                  .withName("member-0")
                  .edit(
                      p -> {
                        p.getMetadata().getLabels().put("team", "blue");
                        return p;
                      }))
          .isNotNull();
      assertThat(
              alice
                  .pods()
                  .inNamespace(namespace)
                  .withName("member-0")
                  .edit(
                      p -> {
                        p.getMetadata().setOwnerReferences(List.of());
                        return p;
                      }))
          .isNotNull();
      // ...but not give a pod of their own a group as its controller.
      alice.pods().inNamespace(namespace).resource(pod("mine", false, false)).create();
      assertThatThrownBy(
              () ->
                  alice
                      .pods()
                      .inNamespace(namespace)
                      .withName("mine")
                      .edit(
                          p -> {
                            p.getMetadata().setOwnerReferences(List.of(groupController()));
                            return p;
                          }))
          .hasMessageContaining("only the sharedipc operator may make a pod controlled by");
    }
  }

  private static Pod dryRunCreate(KubernetesClient client, Pod pod) {
    return client.pods().inNamespace(namespace).resource(pod).dryRun().create();
  }

  private static Pod pod(String name, boolean sharedMemoryVolume, boolean groupController) {
    PodBuilder b =
        new PodBuilder()
            .withNewMetadata()
            .withName(name)
            .withLabels(new java.util.HashMap<>(Map.of("app", name)))
            .endMetadata()
            .withNewSpec()
            .addNewContainer()
            .withName("app")
            .withImage("busybox:1.36")
            .endContainer()
            .endSpec();
    if (groupController) {
      b.editMetadata().withOwnerReferences(groupController()).endMetadata();
    }
    if (sharedMemoryVolume) {
      b.editSpec()
          .addNewVolume()
          .withName("shm")
          .withNewCsi()
          .withDriver(CsiVolume.DRIVER)
          .endCsi()
          .endVolume()
          .endSpec();
    }
    return b.build();
  }

  private static io.fabric8.kubernetes.api.model.OwnerReference groupController() {
    return new OwnerReferenceBuilder()
        .withApiVersion("sharedipc.dev/v1alpha1")
        .withKind("SharedIpcGroup")
        .withName("frames")
        .withUid(groupUid)
        .withController(true)
        .withBlockOwnerDeletion(false)
        .build();
  }

  private static KubernetesClient as(String user, List<String> groups) {
    Config config = Config.fromKubeconfig(api.kubeConfigYaml());
    config.setImpersonateUsername(user);
    config.setImpersonateGroups(groups.toArray(String[]::new));
    return new KubernetesClientBuilder().withConfig(config).build();
  }
}
