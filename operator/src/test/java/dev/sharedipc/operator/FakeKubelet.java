package dev.sharedipc.operator;

import io.fabric8.kubernetes.api.model.BindingBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Instant;
import java.util.List;

/**
 * Does to pods what a scheduler and a kubelet would, on an API server that runs neither: binds a
 * pod to a node (through the real binding subresource) and writes the pod status a kubelet writes.
 */
public final class FakeKubelet {
  private final KubernetesClient client;

  public FakeKubelet(KubernetesClient client) {
    this.client = client;
  }

  public void bind(Pod pod, String node) {
    client
        .resource(
            new BindingBuilder()
                .withNewMetadata()
                .withName(pod.getMetadata().getName())
                .withNamespace(pod.getMetadata().getNamespace())
                .endMetadata()
                .withNewTarget()
                .withApiVersion("v1")
                .withKind("Node")
                .withName(node)
                .endTarget()
                .build())
        .inNamespace(pod.getMetadata().getNamespace())
        .create();
  }

  /** Finishes the graceful deletion of bound pods, which only a kubelet would otherwise do. */
  public void finishTerminating(String namespace) {
    for (Pod pod : client.pods().inNamespace(namespace).list().getItems()) {
      if (pod.getMetadata().getDeletionTimestamp() != null) {
        client
            .pods()
            .inNamespace(namespace)
            .withName(pod.getMetadata().getName())
            .withGracePeriod(0)
            .delete();
      }
    }
  }

  /** Marks the pod Running with every container ready (or not), binding it first when needed. */
  public void run(Pod pod, String node, boolean ready) {
    Pod fresh =
        client
            .pods()
            .inNamespace(pod.getMetadata().getNamespace())
            .withName(pod.getMetadata().getName())
            .get();
    if (fresh.getSpec().getNodeName() == null) {
      bind(fresh, node);
    }
    String now = Instant.now().toString();
    List<ContainerStatus> containers =
        fresh.getSpec().getContainers().stream()
            .map(
                c ->
                    new ContainerStatusBuilder()
                        .withName(c.getName())
                        .withImage(c.getImage())
                        .withReady(ready)
                        .withStarted(true)
                        .withRestartCount(0)
                        .withNewState()
                        .withNewRunning(now)
                        .endState()
                        .build())
            .toList();
    client
        .pods()
        .inNamespace(fresh.getMetadata().getNamespace())
        .withName(fresh.getMetadata().getName())
        .editStatus(
            p -> {
              PodStatus status = new PodStatus();
              status.setPhase("Running");
              status.setStartTime(now);
              status.setContainerStatuses(containers);
              status.setConditions(
                  List.of(
                      new PodConditionBuilder()
                          .withType("PodScheduled")
                          .withStatus("True")
                          .withLastTransitionTime(now)
                          .build(),
                      new PodConditionBuilder()
                          .withType("ContainersReady")
                          .withStatus(ready ? "True" : "False")
                          .withLastTransitionTime(now)
                          .build(),
                      new PodConditionBuilder()
                          .withType("Ready")
                          .withStatus(ready ? "True" : "False")
                          .withLastTransitionTime(now)
                          .build()));
              p.setStatus(status);
              return p;
            });
  }
}
