package dev.sharedipc.operator;

import dev.sharedipc.api.testing.RealApiServer;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.NodeStatusBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
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

  /** {@link #readyNode(String, String, String)} with 4 CPUs and 8Gi. */
  protected String readyNode(String suffix) {
    return readyNode(suffix, "4", "8Gi");
  }

  /**
   * A Ready, untainted Node of this test, named {@code <namespace>-<suffix>} and labelled for this
   * test's groups (they select it by label), with room for {@code cpu}, {@code memory} and 110
   * pods; deleted after the test. Returns its name.
   */
  protected String readyNode(String suffix, String cpu, String memory) {
    String name = ns + "-" + suffix;
    Node node =
        client
            .nodes()
            .resource(
                new NodeBuilder()
                    .withNewMetadata()
                    .withName(name)
                    .addToLabels("kubernetes.io/hostname", name)
                    .addToLabels("sharedipc-test", ns)
                    .endMetadata()
                    .build())
            .create();
    node.setStatus(
        new NodeStatusBuilder()
            .addToAllocatable("cpu", new Quantity(cpu))
            .addToAllocatable("memory", new Quantity(memory))
            .addToAllocatable("pods", new Quantity("110"))
            .addToCapacity("cpu", new Quantity(cpu))
            .addToCapacity("memory", new Quantity(memory))
            .addToCapacity("pods", new Quantity("110"))
            .addNewCondition()
            .withType("Ready")
            .withStatus("True")
            .withReason("KubeletReady")
            .endCondition()
            .build());
    client.nodes().resource(node).updateStatus();
    // The API server taints new nodes not-ready; the node lifecycle controller (not run here)
    // lifts the taint once the node reports Ready. Do what it would.
    client
        .nodes()
        .withName(name)
        .edit(
            n -> {
              n.getSpec().setTaints(new ArrayList<>());
              return n;
            });
    nodes.add(name);
    return name;
  }

  @AfterEach
  void removeNodes() {
    nodes.forEach(n -> client.nodes().withName(n).delete());
  }
}
