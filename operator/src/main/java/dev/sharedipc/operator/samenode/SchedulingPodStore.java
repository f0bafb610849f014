package dev.sharedipc.operator.samenode;

import dev.sharedipc.api.Labels;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.ItemStore;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The cache of every pod in the cluster that SameNode placement reads, keeping of each pod only
 * what placement needs: where it runs or is pinned, what it requests, whether it is over, and the
 * node tmpfs an instance reserves. A cluster's pods in full would cost the operator hundreds of
 * MiB; these stubs cost a small fraction of that.
 */
public final class SchedulingPodStore implements ItemStore<Pod> {
  private final BasicItemStore<Pod> store = new BasicItemStore<>(Cache::metaNamespaceKeyFunc);

  @Override
  public String getKey(Pod pod) {
    return store.getKey(pod);
  }

  @Override
  public Pod put(String key, Pod pod) {
    return store.put(key, stub(pod));
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
    return store.values();
  }

  @Override
  public int size() {
    return store.size();
  }

  @Override
  public Pod get(String key) {
    return store.get(key);
  }

  static Pod stub(Pod pod) {
    ObjectMeta meta = new ObjectMeta();
    meta.setName(pod.getMetadata().getName());
    meta.setNamespace(pod.getMetadata().getNamespace());
    meta.setUid(pod.getMetadata().getUid());
    meta.setResourceVersion(pod.getMetadata().getResourceVersion());
    meta.setCreationTimestamp(pod.getMetadata().getCreationTimestamp());
    meta.setDeletionTimestamp(pod.getMetadata().getDeletionTimestamp());
    Map<String, String> annotations = pod.getMetadata().getAnnotations();
    if (annotations != null && annotations.containsKey(Labels.NODE_SHARED_BYTES_ANNOTATION)) {
      meta.setAnnotations(Map.of(Labels.NODE_SHARED_BYTES_ANNOTATION, annotations.get(Labels.NODE_SHARED_BYTES_ANNOTATION)));
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
        .map(c -> new ContainerBuilder().withName(c.getName()).withResources(c.getResources())
            .withRestartPolicy(c.getRestartPolicy()).build())
        .toList();
  }
}
