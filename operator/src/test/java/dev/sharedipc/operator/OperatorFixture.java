package dev.sharedipc.operator;

import dev.sharedipc.api.testing.RealApiServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What every operator integration test stands on: the shared real API server and the real operator
 * of this JVM running against it (started once), a fresh namespace per test with its groups, a fake
 * kubelet, the Nodes a test adds to {@link #nodes} deleted after it, and on failure the namespace's
 * Events, groups and pods printed. A test class extends it and names its namespaces.
 */
public abstract class OperatorFixture {
  protected static final Duration WAIT = Duration.ofSeconds(30);
  protected static RealApiServer api;
  protected static KubernetesClient client;
  protected static FakeKubelet kubelet;

  /** Nodes the test created (cluster-scoped, so not removed with its namespace). */
  protected final List<String> nodes = new ArrayList<>();

  protected String ns;
  protected GroupsInNamespace groups;

  @RegisterExtension final DumpOnFailure dump = new DumpOnFailure(() -> client, () -> ns);

  private final String namespacePrefix;

  /**
   * @param namespacePrefix how the test namespaces of this class begin
   */
  protected OperatorFixture(String namespacePrefix) {
    this.namespacePrefix = namespacePrefix;
  }

  @BeforeAll
  static void startOperator() {
    api = RealApiServer.shared();
    client = api.client();
    kubelet = new FakeKubelet(client);
    RunningOperator.shared();
  }

  @BeforeEach
  void newNamespace() {
    ns = api.newNamespace(namespacePrefix);
    groups = new GroupsInNamespace(client, ns);
  }

  @AfterEach
  void removeNodes() {
    nodes.forEach(n -> client.nodes().withName(n).delete());
  }
}
