package dev.sharedipc.agent.csi;

import dev.sharedipc.agent.scan.SharedDirName;
import dev.sharedipc.api.Labels;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.Map;

/**
 * {@link Membership} by the API server: the publishing pod (name, namespace and UID from the
 * kubelet's pod info) must exist with that UID, be bound to this node, be controlled by the group
 * the volume names (controller ownerReference with the group's UID) and carry the group and
 * instance labels the operator writes. A pod that writes another group's name or UID into its own
 * volume attributes fails the ownerReference check: it never sees that group's memory.
 */
public final class PodMembership implements Membership {
  private final KubernetesClient client;
  private final String nodeId;

  public PodMembership(KubernetesClient client, String nodeId) {
    this.client = client;
    this.nodeId = nodeId;
  }

  @Override
  public void check(VolumeRequest request) {
    SharedDirName instance = request.instance();
    String pod = instance.namespace() + "/" + request.podName();
    Pod found;
    try {
      found = client.pods().inNamespace(instance.namespace()).withName(request.podName()).get();
    } catch (KubernetesClientException e) {
      throw new Unavailable(
          "cannot read pod "
              + pod
              + " from the API server to check its membership: "
              + e.getMessage()
              + " (the csi container's service account needs get on pods)",
          e);
    }
    if (found == null || !request.podUid().equals(found.getMetadata().getUid())) {
      throw new Refused(
          "pod " + pod + " uid " + request.podUid() + " does not exist in the API server");
    }
    if (nodeId != null && !nodeId.equals(found.getSpec().getNodeName())) {
      throw new Refused(
          "pod "
              + pod
              + " is bound to node "
              + found.getSpec().getNodeName()
              + ", not this node "
              + nodeId);
    }
    OwnerReference controller =
        found.getMetadata().getOwnerReferences().stream()
            .filter(r -> Boolean.TRUE.equals(r.getController()))
            .findFirst()
            .orElse(null);
    if (controller == null
        || !"SharedIpcGroup".equals(controller.getKind())
        || !controller.getApiVersion().startsWith(Labels.DOMAIN + "/")
        || !instance.groupUid().equals(controller.getUid())
        || !instance.group().equals(controller.getName())) {
      throw new Refused(
          "pod "
              + pod
              + " is not controlled by SharedIpcGroup "
              + instance.group()
              + " uid "
              + instance.groupUid()
              + ": only the group's member pods may publish its instance volume");
    }
    Map<String, String> labels =
        found.getMetadata().getLabels() == null ? Map.of() : found.getMetadata().getLabels();
    if (!instance.group().equals(labels.get(Labels.GROUP))
        || !String.valueOf(instance.instance()).equals(labels.get(Labels.INSTANCE))) {
      throw new Refused(
          "pod "
              + pod
              + " is not labelled "
              + Labels.GROUP
              + "="
              + instance.group()
              + " "
              + Labels.INSTANCE
              + "="
              + instance.instance()
              + ": it is not a member of that instance");
    }
  }
}
