package dev.sharedipc.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.e2e.harness.E2EEnvironment;
import dev.sharedipc.e2e.harness.E2EExtension;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.storage.CSINode;
import io.fabric8.kubernetes.api.model.storage.CSINodeDriver;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * deploy/ installed as the README says, on real nodes: the operator's Deployment and the agent's
 * DaemonSet run in real containers (containerd, runc) with their real probes, and the CSI driver is
 * registered with the real kubelet.
 */
@ExtendWith(E2EExtension.class)
// First, so that it sees the install as it rolled out: later classes load the guest's two emulated
// CPUs, and a container restarted then (a probe timed out under that load) is another finding.
@Order(1)
class InstallRealNodeE2E {
  private static final String CSI_DRIVER = "shm.sharedipc.dev";

  @Test
  void operatorDeploymentIsAvailableWithBothReplicasInRealContainersAndOneLeader(
      E2EEnvironment env) {
    List<String> realNodes = env.cluster().realNodeNames();
    await("the operator's Deployment Available with 2 replicas")
        .atMost(RealNodes.START)
        .pollInterval(RealNodes.POLL)
        .untilAsserted(
            () ->
                assertThat(
                        env.admin()
                            .apps()
                            .deployments()
                            .inNamespace(E2EEnvironment.OPERATOR_NAMESPACE)
                            .withName("sharedipc-operator")
                            .get()
                            .getStatus()
                            .getAvailableReplicas())
                    .as("available replicas")
                    .isEqualTo(2));
    List<Pod> pods =
        env.admin()
            .pods()
            .inNamespace(E2EEnvironment.OPERATOR_NAMESPACE)
            .withLabel("app.kubernetes.io/name", "sharedipc-operator")
            .list()
            .getItems();
    assertThat(pods).as("operator pods").hasSize(2);
    for (Pod pod : pods) {
      assertRunsInRealContainers(pod, realNodes);
    }
    // Both Ready (the standby too), one of them leads.
    List<String> names = pods.stream().map(p -> p.getMetadata().getName()).toList();
    await("the operator's Lease held by one of its pods")
        .atMost(Duration.ofMinutes(2))
        .pollInterval(RealNodes.POLL)
        .untilAsserted(
            () -> {
              Lease lease =
                  env.admin()
                      .leases()
                      .inNamespace(E2EEnvironment.OPERATOR_NAMESPACE)
                      .withName("sharedipc-operator")
                      .get();
              assertThat(lease).as("Lease sharedipc-operator").isNotNull();
              // The identity is <pod name>_<a random suffix per process>.
              String holder = lease.getSpec().getHolderIdentity();
              assertThat(holder).as("holder").isNotNull();
              assertThat(holder.replaceFirst("_[^_]*$", "")).as("holder %s", holder).isIn(names);
            });
  }

  @Test
  void agentDaemonSetIsReadyOnEveryRealNodeAndItsCsiDriverIsRegisteredWithTheKubelet(
      E2EEnvironment env) {
    List<String> realNodes = env.cluster().realNodeNames();
    DaemonSet agent =
        env.admin()
            .apps()
            .daemonSets()
            .inNamespace(E2EEnvironment.AGENT_NAMESPACE)
            .withName("sharedipc-agent")
            .get();
    assertThat(agent.getStatus().getDesiredNumberScheduled())
        .as("desired agent pods")
        .isEqualTo(realNodes.size());
    assertThat(agent.getStatus().getNumberReady())
        .as("ready agent pods")
        .isEqualTo(realNodes.size());
    for (Pod pod :
        env.admin()
            .pods()
            .inNamespace(E2EEnvironment.AGENT_NAMESPACE)
            .withLabel("app.kubernetes.io/name", "sharedipc-agent")
            .list()
            .getItems()) {
      assertRunsInRealContainers(pod, realNodes);
    }
    for (String node : realNodes) {
      await("CSINode " + node + " lists " + CSI_DRIVER)
          .atMost(Duration.ofMinutes(2))
          .pollInterval(RealNodes.POLL)
          .untilAsserted(
              () -> {
                CSINode csiNode = env.admin().storage().v1().csiNodes().withName(node).get();
                assertThat(csiNode).as("CSINode %s", node).isNotNull();
                assertThat(csiNode.getSpec().getDrivers())
                    .extracting(CSINodeDriver::getName)
                    .as("drivers the kubelet of %s registered", node)
                    .contains(CSI_DRIVER);
              });
    }
  }

  /** On a real node, every container started by containerd, Ready, never restarted. */
  private static void assertRunsInRealContainers(Pod pod, List<String> realNodes) {
    String name = pod.getMetadata().getName();
    assertThat(pod.getSpec().getNodeName()).as("node of %s", name).isIn(realNodes);
    assertThat(pod.getStatus().getContainerStatuses()).as("containers of %s", name).isNotEmpty();
    for (ContainerStatus c : pod.getStatus().getContainerStatuses()) {
      assertThat(c.getContainerID()).as("%s/%s", name, c.getName()).startsWith("containerd://");
      assertThat(c.getReady()).as("%s/%s ready", name, c.getName()).isTrue();
      assertThat(c.getRestartCount())
          .as(
              "%s/%s restarts (the last ended: %s)",
              name, c.getName(), c.getLastState() == null ? null : c.getLastState().getTerminated())
          .isZero();
    }
  }
}
