package dev.sharedipc.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.api.testing.RealApiServer;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The install manifests in deploy/: kustomize renders them and the real API server accepts them.
 */
class DeployManifestsIT {
  private static RealApiServer api;
  private static List<HasMetadata> objects;

  @BeforeAll
  static void render() throws IOException, InterruptedException {
    api = RealApiServer.shared();
    objects = Kustomized.render(api, "deploy");
  }

  @Test
  void everyObjectIsAcceptedByTheApiServerWithServerSideDryRun() {
    KubernetesClient client = api.client();
    assertThat(objects)
        .extracting(HasMetadata::getKind)
        .contains(
            "CustomResourceDefinition",
            "Namespace",
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "Deployment",
            "DaemonSet",
            "Service",
            "PodDisruptionBudget",
            "PriorityClass",
            "ValidatingAdmissionPolicy",
            "ValidatingAdmissionPolicyBinding");
    // The namespace must exist for namespaced dry runs to be judged; create it for real first.
    objects.stream()
        .filter(o -> o.getKind().equals("Namespace"))
        .forEach(ns -> client.resource(ns).serverSideApply());
    for (HasMetadata object : objects) {
      HasMetadata accepted = client.resource(object).dryRun().forceConflicts().serverSideApply();
      assertThat(accepted.getMetadata().getName())
          .as("%s %s", object.getKind(), object.getMetadata().getName())
          .isEqualTo(object.getMetadata().getName());
    }
  }

  @Test
  void hostIpcGroupsAreRefusedInNamespacesWithoutTheLabel() {
    KubernetesClient client = api.client();
    objects.stream()
        .filter(o -> o.getKind().startsWith("ValidatingAdmissionPolicy"))
        .forEach(o -> client.resource(o).forceConflicts().serverSideApply());
    String plain = api.newNamespace("no-host-ipc");
    String allowed = api.newNamespace("host-ipc");
    client
        .namespaces()
        .withName(allowed)
        .edit(
            n -> {
              n.getMetadata().setLabels(java.util.Map.of("sharedipc.dev/host-ipc", "allowed"));
              return n;
            });
    dev.sharedipc.api.v1alpha1.SharedIpcGroup group =
        dev.sharedipc.operator.Fixtures.forCluster("hostipc", 0, "64Mi");
    group.getSpec().setPlacement(dev.sharedipc.api.v1alpha1.Placement.SameNode);
    group.getSpec().setHostIPC(true);
    // The policy takes effect once the API server has loaded and type-checked it.
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> client.resource(group).inNamespace(plain).dryRun().create())
                    .hasMessageContaining("hostIPC: true is not allowed in namespace " + plain)
                    .hasMessageContaining("sharedipc.dev/host-ipc=allowed"));
    assertThat(client.resource(group).inNamespace(allowed).dryRun().create()).isNotNull();
    group.getSpec().setHostIPC(false);
    assertThat(client.resource(group).inNamespace(plain).dryRun().create()).isNotNull();
  }

  @Test
  void rbacUsesNoWildcards() {
    List<PolicyRule> rules =
        objects.stream()
            .filter(o -> o instanceof ClusterRole)
            .map(o -> (ClusterRole) o)
            .flatMap(r -> r.getRules().stream())
            .toList();
    assertThat(rules)
        .isNotEmpty()
        .allSatisfy(
            rule -> {
              assertThat(rule.getVerbs()).doesNotContain("*");
              assertThat(rule.getResources()).doesNotContain("*");
              assertThat(rule.getApiGroups()).doesNotContain("*");
            });
    assertThat(
            new String(
                String.valueOf(rules).getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8))
        .doesNotContain("secrets");
  }
}
