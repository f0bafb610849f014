package dev.sharedipc.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.e2e.harness.Commands;
import dev.sharedipc.e2e.harness.E2EEnvironment;
import dev.sharedipc.e2e.harness.E2EExtension;
import dev.sharedipc.e2e.harness.TestNamespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.storage.CSINodeDriver;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Helm chart on a real node, reached as docs/install.md tells a kustomize user to switch: the
 * installed objects are marked as the release's and {@code helm install} takes them over; the
 * chart's operator Deployment and agent DaemonSet roll out in real containers, the CSI driver is
 * registered again, and a group that ran before keeps its pod while a new one runs.
 */
@ExtendWith(E2EExtension.class)
// Last: it replaces the install every other class uses.
@Order(Integer.MAX_VALUE)
class HelmRealNodeE2E {
  /** docs/install.md, "From kustomize to Helm", verbatim. */
  private static final List<String> SWITCH =
      List.of(
          "kubectl kustomize deploy/ | kubectl annotate -f - --overwrite meta.helm.sh/release-name=sharedipc meta.helm.sh/release-namespace=sharedipc-system",
          "kubectl kustomize deploy/ | kubectl label -f - --overwrite app.kubernetes.io/managed-by=Helm",
          "helm install sharedipc charts/sharedipc -n sharedipc-system");

  @Test
  void switchingToTheChartKeepsTheGroupsAndRunsTheChartsPodsInRealContainers(
      E2EEnvironment env, TestNamespace ns) throws IOException {
    String installMd = Files.readString(env.repo().resolve("docs/install.md"));
    SWITCH.forEach(c -> assertThat(installMd).as("docs/install.md gives `%s`", c).contains(c));
    Groups groups = new Groups(env.admin(), ns.name());
    RealNodes real = new RealNodes(env, ns.name());
    groups.create(group("before"));
    Pod before = real.awaitGroupRunning("before", 1).values().iterator().next();

    String helm = helm(env);
    for (String command : SWITCH) {
      Commands.Result r =
          Commands.run(
              List.of("bash", "-o", "pipefail", "-c", command),
              Map.of(
                  "KUBECONFIG",
                  env.cluster().kubeconfig().toString(),
                  "PATH",
                  helm + ":" + env.cluster().binDir() + ":" + System.getenv("PATH"),
                  "HOME",
                  env.logDir().resolve("helm-home").toString()),
              env.logDir().resolve("helm-switch.log"),
              false,
              Duration.ofMinutes(5),
              env.repo());
      r.orThrow(command);
    }
    for (String workload :
        List.of(
            "deployment/sharedipc-operator -n " + E2EEnvironment.OPERATOR_NAMESPACE,
            "daemonset/sharedipc-agent -n " + E2EEnvironment.AGENT_NAMESPACE)) {
      List<String> args = new java.util.ArrayList<>(List.of("rollout", "status"));
      args.addAll(List.of(workload.split(" ")));
      args.add("--timeout=15m");
      env.kubectl(args, Duration.ofMinutes(16)).orThrow("kubectl rollout status " + workload);
    }

    Deployment operator =
        env.admin()
            .apps()
            .deployments()
            .inNamespace(E2EEnvironment.OPERATOR_NAMESPACE)
            .withName("sharedipc-operator")
            .get();
    assertThat(operator.getMetadata().getLabels())
        .as("the operator Deployment's labels")
        .containsEntry("app.kubernetes.io/managed-by", "Helm")
        .containsKey("helm.sh/chart");
    assertThat(operator.getStatus().getAvailableReplicas()).as("available").isEqualTo(2);
    DaemonSet agent =
        env.admin()
            .apps()
            .daemonSets()
            .inNamespace(E2EEnvironment.AGENT_NAMESPACE)
            .withName("sharedipc-agent")
            .get();
    assertThat(agent.getMetadata().getLabels()).containsKey("helm.sh/chart");
    assertThat(agent.getStatus().getNumberReady())
        .as("ready agent pods")
        .isEqualTo(env.cluster().realNodeNames().size());
    for (String node : env.cluster().realNodeNames()) {
      await("the CSI driver registered on " + node + " by the chart's agent")
          .atMost(Duration.ofMinutes(5))
          .pollInterval(RealNodes.POLL)
          .untilAsserted(
              () ->
                  assertThat(
                          env.admin()
                              .storage()
                              .v1()
                              .csiNodes()
                              .withName(node)
                              .get()
                              .getSpec()
                              .getDrivers())
                      .extracting(CSINodeDriver::getName)
                      .contains("shm.sharedipc.dev"));
    }

    // The group and its pod stayed; the chart's operator runs a new one.
    Pod still =
        env.admin().pods().inNamespace(ns.name()).withName(before.getMetadata().getName()).get();
    assertThat(still).as("the pod of group before").isNotNull();
    assertThat(still.getMetadata().getUid()).isEqualTo(before.getMetadata().getUid());
    groups.create(group("after"));
    real.awaitGroupRunning("after", 1);
  }

  /** The directory of the Helm that scripts/helm.sh builds (cached; the ITs built it already). */
  private static String helm(E2EEnvironment env) {
    Commands.Result ensure =
        Commands.run(
            List.of("bash", env.repo().resolve("scripts/helm.sh").toString(), "ensure"),
            Map.of(),
            env.logDir().resolve("helm-switch.log"),
            false,
            Duration.ofMinutes(15));
    ensure.orThrow("scripts/helm.sh ensure");
    Commands.Result path =
        Commands.run(
            List.of("bash", env.repo().resolve("scripts/helm.sh").toString(), "path"),
            Map.of(),
            env.logDir().resolve("helm-switch.log"),
            false,
            Duration.ofMinutes(1));
    String bin = path.orThrow("scripts/helm.sh path").output().strip();
    return bin.substring(0, bin.lastIndexOf('/'));
  }

  private static SharedIpcGroup group(String name) {
    return Serialization.unmarshal(
        """
        apiVersion: sharedipc.dev/v1alpha1
        kind: SharedIpcGroup
        metadata:
          name: %s
        spec:
          replicas: 1
          placement: SamePod
          sharedMemory: {size: 8Mi, mountPath: /dev/shm}
          members:
            - name: app
              template:
                spec:
                  containers:
                    - name: app
                      image: busybox:1.36
                      command: [sh, -c, "sleep infinity"]
                      resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {memory: 32Mi}}
        """
            .formatted(name),
        SharedIpcGroup.class);
  }
}
