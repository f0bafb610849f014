package dev.sharedipc.operator.samenode;

import dev.sharedipc.api.Labels;
import dev.sharedipc.operator.informers.CompactObjects;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.ItemStore;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.stream.Stream;

/**
 * The cache of every pod in the cluster that SameNode placement reads, keeping of each pod only
 * what placement needs: where it runs or is pinned, what it requests, its host ports, labels and
 * pod (anti-)affinity, whether it is over, and the node tmpfs an instance reserves. A cluster's
 * pods in full would cost the operator hundreds of MiB; these stubs cost a small fraction of that.
 *
 * <p>The node tmpfs annotation ({@link Labels#NODE_SHARED_BYTES_ANNOTATION}) is believed only on a
 * pod the operator owns (the managed-by label and a controller ownerReference to a SharedIpcGroup)
 * and, when read, only up to that group's current {@code sharedMemory.size} and never below zero;
 * on any other pod, or when the group is unknown, it counts nothing. Otherwise any tenant's pod
 * could make every node look full to SameNode placement.
 */
public final class SchedulingPodStore implements ItemStore<Pod> {
  /**
   * The shared memory size in bytes of the SharedIpcGroup with this namespace, name and uid; empty
   * when there is none.
   */
  @FunctionalInterface
  public interface GroupSizes {
    OptionalLong sharedMemoryBytes(String namespace, String name, String uid);
  }

  private final BasicItemStore<Pod> store = new BasicItemStore<>(Cache::metaNamespaceKeyFunc);
  private final GroupSizes groups;

  public SchedulingPodStore(GroupSizes groups) {
    this.groups = groups;
  }

  @Override
  public String getKey(Pod pod) {
    return store.getKey(pod);
  }

  @Override
  public Pod put(String key, Pod pod) {
    return store.put(key, CompactObjects.compact(stub(pod)));
  }

  @Override
  public Pod remove(String key) {
    return store.remove(key);
  }

  @Override
  public Stream<String> keySet() {
    return store.keySet();
  }

  @Override
  public Stream<Pod> values() {
    return store.values().map(this::believed);
  }

  @Override
  public int size() {
    return store.size();
  }

  @Override
  public Pod get(String key) {
    Pod pod = store.get(key);
    return pod == null ? null : believed(pod);
  }

  /**
   * The stub as placement may read it: the node tmpfs claim replaced by what is believed of it now
   * (clamped to [0, the owning group's size]), or removed when nothing is.
   */
  private Pod believed(Pod stub) {
    Map<String, String> annotations = stub.getMetadata().getAnnotations();
    if (annotations == null || !annotations.containsKey(Labels.NODE_SHARED_BYTES_ANNOTATION)) {
      return stub;
    }
    OwnerReference owner = stub.getMetadata().getOwnerReferences().get(0);
    long claimed;
    try {
      claimed = Long.parseLong(annotations.get(Labels.NODE_SHARED_BYTES_ANNOTATION));
    } catch (NumberFormatException e) {
      claimed = 0;
    }
    long believed =
        Math.max(
            0,
            Math.min(
                claimed,
                groups
                    .sharedMemoryBytes(
                        stub.getMetadata().getNamespace(), owner.getName(), owner.getUid())
                    .orElse(0)));
    Pod copy =
        new PodBuilder(stub)
            .editMetadata()
            .withAnnotations(
                believed == 0
                    ? null
                    : Map.of(Labels.NODE_SHARED_BYTES_ANNOTATION, Long.toString(believed)))
            .endMetadata()
            .build();
    return copy;
  }

  /**
   * The pod's controller ownerReference when it is a SharedIpcGroup and the pod carries the
   * operator's label, else null.
   */
  static OwnerReference groupController(Pod pod) {
    Map<String, String> labels = pod.getMetadata().getLabels();
    if (labels == null || !Labels.MANAGED_BY_VALUE.equals(labels.get(Labels.MANAGED_BY))) {
      return null;
    }
    for (OwnerReference ref :
        pod.getMetadata().getOwnerReferences() == null
            ? List.<OwnerReference>of()
            : pod.getMetadata().getOwnerReferences()) {
      if (Boolean.TRUE.equals(ref.getController())
          && "SharedIpcGroup".equals(ref.getKind())
          && ref.getApiVersion() != null
          && ref.getApiVersion().startsWith(Labels.DOMAIN + "/")
          && ref.getName() != null
          && ref.getUid() != null) {
        return ref;
      }
    }
    return null;
  }

  static Pod stub(Pod pod) {
    ObjectMeta meta = new ObjectMeta();
    meta.setName(pod.getMetadata().getName());
    meta.setNamespace(pod.getMetadata().getNamespace());
    meta.setUid(pod.getMetadata().getUid());
    meta.setResourceVersion(pod.getMetadata().getResourceVersion());
    meta.setCreationTimestamp(pod.getMetadata().getCreationTimestamp());
    meta.setDeletionTimestamp(pod.getMetadata().getDeletionTimestamp());
    // Labels for pod anti-affinity: whose terms select this pod.
    meta.setLabels(pod.getMetadata().getLabels());
    Map<String, String> annotations = pod.getMetadata().getAnnotations();
    OwnerReference group = groupController(pod);
    if (group != null
        && annotations != null
        && annotations.containsKey(Labels.NODE_SHARED_BYTES_ANNOTATION)) {
      meta.setOwnerReferences(List.of(group));
      meta.setAnnotations(
          Map.of(
              Labels.NODE_SHARED_BYTES_ANNOTATION,
              annotations.get(Labels.NODE_SHARED_BYTES_ANNOTATION)));
    }
    PodSpec spec = new PodSpec();
    PodSpec full = pod.getSpec() == null ? new PodSpec() : pod.getSpec();
    spec.setNodeName(full.getNodeName());
    spec.setAffinity(full.getAffinity());
    spec.setOverhead(full.getOverhead());
    spec.setResources(full.getResources());
    spec.setContainers(requestsOnly(full.getContainers()));
    spec.setInitContainers(requestsOnly(full.getInitContainers()));
    PodStatus status = new PodStatus();
    status.setPhase(pod.getStatus() == null ? null : pod.getStatus().getPhase());
    Pod stub = new Pod();
    stub.setApiVersion(pod.getApiVersion());
    stub.setKind(pod.getKind());
    stub.setMetadata(meta);
    stub.setSpec(spec);
    stub.setStatus(status);
    return stub;
  }

  private static List<Container> requestsOnly(List<Container> containers) {
    if (containers == null) {
      return List.of();
    }
    return containers.stream()
        .map(
            c ->
                new ContainerBuilder()
                    .withName(c.getName())
                    .withResources(c.getResources())
                    .withRestartPolicy(c.getRestartPolicy())
                    .withPorts(hostPortsOnly(c.getPorts()))
                    .build())
        .toList();
  }

  private static List<ContainerPort> hostPortsOnly(List<ContainerPort> ports) {
    return ports == null
        ? null
        : ports.stream().filter(p -> p.getHostPort() != null && p.getHostPort() > 0).toList();
  }
}
