package dev.sharedipc.e2e.harness;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import java.time.Duration;
import org.awaitility.Awaitility;

/**
 * A namespace of one test, created before it and deleted after it (the namespace controller of the
 * real kube-controller-manager then removes what is left in it).
 */
public final class TestNamespace {
  public static final String LABEL = "sharedipc.dev/e2e";

  private final E2EEnvironment env;
  private final String name;

  private TestNamespace(E2EEnvironment env, String name) {
    this.env = env;
    this.name = name;
  }

  static TestNamespace create(E2EEnvironment env, String name) {
    env.admin()
        .namespaces()
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName(name)
                .addToLabels(LABEL, "true")
                .endMetadata()
                .build())
        .create();
    // The ServiceAccount admission plugin rejects pods until the namespace's default ServiceAccount
    // exists (the serviceaccount controller creates it a moment after the namespace).
    Awaitility.await("ServiceAccount " + name + "/default")
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () ->
                env.admin().serviceAccounts().inNamespace(name).withName("default").get() != null);
    return new TestNamespace(env, name);
  }

  public String name() {
    return name;
  }

  void delete() {
    env.admin().namespaces().withName(name).delete();
  }

  @Override
  public String toString() {
    return name;
  }
}
