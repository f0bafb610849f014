package dev.sharedipc.operator.render;

import static dev.sharedipc.operator.Fixtures.group;
import static dev.sharedipc.operator.Fixtures.member;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sharedipc.api.testing.RealApiServer;
import dev.sharedipc.api.v1alpha1.Placement;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import io.fabric8.kubernetes.api.model.CapabilitiesBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSecurityContextBuilder;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The pods the renderer makes for a SameNode group whose members follow Pod Security "restricted",
 * created in a namespace that enforces it on the real API server (its PodSecurity admission): with
 * the CSI medium every member is admitted; with the hostPath medium every member is refused.
 */
class RestrictedNamespaceIT {
  private RealApiServer api;
  private KubernetesClient client;
  private String namespace;

  @BeforeEach
  void setUp() {
    api = RealApiServer.shared();
    client = api.newClient();
    namespace = api.newNamespace("restricted");
    client
        .namespaces()
        .withName(namespace)
        .edit(
            n -> {
              n.getMetadata().getLabels().put("pod-security.kubernetes.io/enforce", "restricted");
              return n;
            });
  }

  @AfterEach
  void tearDown() {
    client.close();
  }

  @Test
  void sameNodeMembersWithTheCsiVolumeAreAdmitted() {
    List<Pod> pods =
        new GroupRenderer(GroupRenderer.DEFAULT_NODE_SHARED_ROOT, () -> true)
            .render(restrictedGroup())
            .pods();

    assertThat(pods).hasSize(2);
    for (Pod pod : pods) {
      // create() returning is the admission: PodSecurity refuses at create. (The group is not in
      // the API
      // server, so the garbage collector removes the pods afterwards; nothing here depends on
      // them.)
      Pod created = client.pods().inNamespace(namespace).resource(pod).create();
      assertThat(created.getMetadata().getUid()).isNotEmpty();
      assertThat(created.getSpec().getVolumes())
          .anySatisfy(v -> assertThat(v.getCsi().getDriver()).isEqualTo("shm.sharedipc.dev"));
    }
  }

  @Test
  void sameNodeMembersWithTheHostPathAreRefused() {
    List<Pod> pods =
        new GroupRenderer(GroupRenderer.DEFAULT_NODE_SHARED_ROOT, () -> false)
            .render(restrictedGroup())
            .pods();

    assertThatThrownBy(() -> client.pods().inNamespace(namespace).resource(pods.get(0)).create())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("violates PodSecurity \"restricted:latest\"")
        .hasMessageContaining("hostPath");
  }

  private SharedIpcGroup restrictedGroup() {
    SharedIpcGroup g = group("sn", 1, "64Mi", member("w", null, null), member("r", null, null));
    g.getMetadata().setNamespace(namespace);
    g.getSpec().setPlacement(Placement.SameNode);
    g.getSpec()
        .getMembers()
        .forEach(
            m -> {
              m.getTemplate()
                  .getSpec()
                  .setSecurityContext(
                      new PodSecurityContextBuilder()
                          .withRunAsNonRoot(true)
                          .withRunAsUser(1000L)
                          .withFsGroup(2000L)
                          .withNewSeccompProfile()
                          .withType("RuntimeDefault")
                          .endSeccompProfile()
                          .build());
              m.getTemplate()
                  .getSpec()
                  .getContainers()
                  .forEach(
                      c ->
                          c.setSecurityContext(
                              new SecurityContextBuilder()
                                  .withAllowPrivilegeEscalation(false)
                                  .withCapabilities(
                                      new CapabilitiesBuilder().withDrop("ALL").build())
                                  .build()));
            });
    return g;
  }
}
