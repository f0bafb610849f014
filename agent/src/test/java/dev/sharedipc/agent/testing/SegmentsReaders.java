package dev.sharedipc.agent.testing;

import dev.sharedipc.api.RepoPaths;
import dev.sharedipc.api.testing.RealApiServer;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;

/**
 * Callers of an agent's {@code /segments} on a test's API server: deploy/agent-rbac.yaml applied
 * (its ClusterRole sharedipc-segments-reader), and ServiceAccounts bound to it, with their tokens.
 */
public final class SegmentsReaders {
  private SegmentsReaders() {}

  /** deploy/agent-rbac.yaml, with the namespace sharedipc-agent it names. */
  public static void installRbac(RealApiServer api) {
    KubernetesClient admin = api.client();
    if (admin.namespaces().withName("sharedipc-agent").get() == null) {
      admin
          .namespaces()
          .resource(
              new NamespaceBuilder()
                  .withNewMetadata()
                  .withName("sharedipc-agent")
                  .endMetadata()
                  .build())
          .create();
    }
    try (InputStream in =
        Files.newInputStream(RepoPaths.root().resolve("deploy/agent-rbac.yaml"))) {
      admin.load(in).forceConflicts().serverSideApply();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A ServiceAccount {@code name} in {@code namespace}, bound (ClusterRoleBinding {@code
   * segments-reader-<namespace>}) to sharedipc-segments-reader when {@code reader}.
   */
  public static void serviceAccount(
      RealApiServer api, String namespace, String name, boolean reader) {
    KubernetesClient admin = api.client();
    admin
        .serviceAccounts()
        .inNamespace(namespace)
        .resource(
            new ServiceAccountBuilder().withNewMetadata().withName(name).endMetadata().build())
        .create();
    if (!reader) {
      return;
    }
    admin
        .rbac()
        .clusterRoleBindings()
        .resource(
            new ClusterRoleBindingBuilder()
                .withNewMetadata()
                .withName(binding(namespace))
                .endMetadata()
                .withNewRoleRef()
                .withApiGroup("rbac.authorization.k8s.io")
                .withKind("ClusterRole")
                .withName("sharedipc-segments-reader")
                .endRoleRef()
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName(name)
                .withNamespace(namespace)
                .endSubject()
                .build())
        .create();
  }

  /** The ClusterRoleBinding {@link #serviceAccount} makes for {@code namespace}. */
  public static String binding(String namespace) {
    return "segments-reader-" + namespace;
  }

  /** A token of the ServiceAccount, valid for an hour. */
  public static String token(RealApiServer api, String namespace, String serviceAccount) {
    return api.client()
        .serviceAccounts()
        .inNamespace(namespace)
        .withName(serviceAccount)
        .tokenRequest(
            new TokenRequestBuilder().withNewSpec().withExpirationSeconds(3600L).endSpec().build())
        .getStatus()
        .getToken();
  }
}
