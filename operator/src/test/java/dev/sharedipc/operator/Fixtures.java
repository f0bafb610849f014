package dev.sharedipc.operator;

import dev.sharedipc.api.v1alpha1.MemberSpec;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcGroupSpec;
import dev.sharedipc.api.v1alpha1.SharedMemorySpec;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.PodTemplateSpecBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.ArrayList;
import java.util.List;

/** Groups and members for unit tests, built with the real model classes. */
public final class Fixtures {
  private Fixtures() {}

  public static SharedIpcGroup group(
      String name, int replicas, String size, MemberSpec... members) {
    SharedIpcGroup group = new SharedIpcGroup();
    group.getMetadata().setName(name);
    group.getMetadata().setNamespace("ns");
    group.getMetadata().setUid("uid-" + name);
    group.getMetadata().setGeneration(1L);
    SharedIpcGroupSpec spec = new SharedIpcGroupSpec();
    spec.setReplicas(replicas);
    SharedMemorySpec shm = new SharedMemorySpec();
    shm.setSize(new Quantity(size));
    spec.setSharedMemory(shm);
    spec.setMembers(new ArrayList<>(List.of(members)));
    group.setSpec(spec);
    return group;
  }

  /** A group ready to create on a cluster: members writer (limit 128Mi) and reader (limit 64Mi). */
  public static SharedIpcGroup forCluster(String name, int replicas, String size) {
    SharedIpcGroup group =
        group(
            name, replicas, size, member("writer", null, "128Mi"), member("reader", null, "64Mi"));
    group.getMetadata().setNamespace(null);
    group.getMetadata().setUid(null);
    group.getMetadata().setGeneration(null);
    return group;
  }

  /** A member with one container named like the member; limit and request may be null. */
  public static MemberSpec member(String name, String memoryRequest, String memoryLimit) {
    ContainerBuilder container = new ContainerBuilder().withName(name).withImage("busybox:1.36");
    if (memoryRequest != null || memoryLimit != null) {
      container.withNewResources().endResources();
      if (memoryRequest != null) {
        container
            .editResources()
            .addToRequests("memory", new Quantity(memoryRequest))
            .endResources();
      }
      if (memoryLimit != null) {
        container.editResources().addToLimits("memory", new Quantity(memoryLimit)).endResources();
      }
    }
    return new MemberSpec(
        name,
        new PodTemplateSpecBuilder()
            .withNewSpec()
            .addToContainers(container.build())
            .endSpec()
            .build());
  }

  /**
   * The UID of a ConfigMap {@code name} made in {@code namespace}, for a group that exists only in
   * a test: its pods name the ConfigMap as their controller, so the operator that other tests run
   * on the same API server neither makes nor replaces them, the garbage collector keeps them (their
   * owner exists), and OwnedPods, which checks the UID, takes them for the group's.
   */
  public static String standInOwnerUid(
      io.fabric8.kubernetes.client.KubernetesClient client, String namespace, String name) {
    return client
        .configMaps()
        .inNamespace(namespace)
        .resource(
            new io.fabric8.kubernetes.api.model.ConfigMapBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .build())
        .create()
        .getMetadata()
        .getUid();
  }
}
