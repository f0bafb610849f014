package dev.sharedipc.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.api.Labels;
import dev.sharedipc.api.v1alpha1.InstanceStatus;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.e2e.harness.E2EEnvironment;
import dev.sharedipc.e2e.harness.E2EExtension;
import dev.sharedipc.e2e.harness.TestNamespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A SameNode group placed by the operator and bound by the real kube-scheduler: one pod per member,
 * and every member of an instance on the same (simulated) node, as a gang.
 */
@ExtendWith(E2EExtension.class)
@Order(1) // with the other scenarios that leave the operator and API server alone
class SameNodeGroupE2E {
  @Test
  void everyMemberOfAnInstanceRunsOnTheSameNode(E2EEnvironment env, TestNamespace ns) {
    Groups groups = new Groups(env.admin(), ns.name());
    SharedIpcGroup group =
        Serialization.unmarshal(
            """
        apiVersion: sharedipc.dev/v1alpha1
        kind: SharedIpcGroup
        metadata:
          name: pair
        spec:
          replicas: 2
          placement: SameNode
          sharedMemory: {size: 64Mi, mountPath: /frames, accountTo: producer}
          scheduling: {timeout: 60s}
          members:
            - name: producer
              template: {spec: {containers: [{name: producer, image: busybox:1.36, command: [sh, -c, "sleep infinity"],
                resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {memory: 32Mi}}}]}}
            - name: consumer
              template: {spec: {containers: [{name: consumer, image: busybox:1.36, command: [sh, -c, "sleep infinity"],
                resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {memory: 32Mi}}}]}}
        """,
            SharedIpcGroup.class);
    group.getMetadata().setNamespace(ns.name());
    groups.api().inNamespace(ns.name()).resource(group).create();

    await("pair Ready with 2 instances of 2 pods")
        .atMost(Groups.CONVERGE)
        .pollInterval(Groups.POLL)
        .untilAsserted(
            () -> {
              SharedIpcGroup current = groups.get("pair");
              assertThat(current.getStatus()).isNotNull();
              assertThat(current.getStatus().getObservedGeneration())
                  .isEqualTo(current.getMetadata().getGeneration());
              assertThat(current.getStatus().getReadyInstances())
                  .as("status.readyInstances")
                  .isEqualTo(2);
              assertThat(Groups.condition(current, "Ready").getStatus())
                  .as("condition Ready: %s", Groups.condition(current, "Ready").getMessage())
                  .isEqualTo("True");
              assertThat(Groups.condition(current, "Placed").getStatus()).isEqualTo("True");

              Map<String, Pod> pods = groups.pods("pair");
              assertThat(pods).hasSize(4);
              assertThat(pods.values())
                  .allSatisfy(
                      p -> {
                        assertThat(Groups.isReady(p))
                            .as("%s Ready", p.getMetadata().getName())
                            .isTrue();
                        assertThat(p.getSpec().getNodeName()).startsWith("kwok-node-");
                        assertThat(p.getMetadata().getLabels())
                            .containsKeys(Labels.INSTANCE, Labels.MEMBER);
                      });
              Map<String, List<Pod>> byInstance =
                  pods.values().stream()
                      .collect(
                          Collectors.groupingBy(
                              p -> p.getMetadata().getLabels().get(Labels.INSTANCE)));
              assertThat(byInstance).containsOnlyKeys("0", "1");
              for (Map.Entry<String, List<Pod>> instance : byInstance.entrySet()) {
                Set<String> members =
                    instance.getValue().stream()
                        .map(p -> p.getMetadata().getLabels().get(Labels.MEMBER))
                        .collect(Collectors.toCollection(TreeSet::new));
                assertThat(members)
                    .as("members of instance %s", instance.getKey())
                    .containsExactly("consumer", "producer");
                Set<String> nodes =
                    instance.getValue().stream()
                        .map(p -> p.getSpec().getNodeName())
                        .collect(Collectors.toSet());
                assertThat(nodes).as("nodes of instance %s", instance.getKey()).hasSize(1);
                InstanceStatus reported =
                    current.getStatus().getInstances().stream()
                        .filter(i -> Integer.valueOf(instance.getKey()).equals(i.getIndex()))
                        .findFirst()
                        .orElseThrow();
                assertThat(reported.getNode())
                    .as("status.instances[%s].node", instance.getKey())
                    .isEqualTo(nodes.iterator().next());
              }
            });
  }
}
