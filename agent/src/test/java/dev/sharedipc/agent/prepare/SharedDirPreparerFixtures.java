package dev.sharedipc.agent.prepare;

import dev.sharedipc.api.Labels;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;

/** Member pods as the operator renders them for SameNode hostPath mode. */
final class SharedDirPreparerFixtures {
  /** A pod as the API server would send it, which is what the agent reads. */
  static com.fasterxml.jackson.databind.JsonNode json(io.fabric8.kubernetes.api.model.Pod pod) {
    return new com.fasterxml.jackson.databind.ObjectMapper().valueToTree(pod);
  }

  static final String UID = "0b0e6b7e-3c55-4d2a-9a39-1f6c1d8e2a10";
  static final String DIR = "team_cache_" + UID + "_1";

  private SharedDirPreparerFixtures() {}

  /**
   * Member w of instance 1 of group team/cache, mounting {@code <root>/DIR}, with the given gid
   * annotation (or none).
   */
  static PodBuilder member(String root, String gid) {
    PodBuilder b =
        new PodBuilder()
            .withNewMetadata()
            .withNamespace("team")
            .withName("cache-1-w")
            .addToLabels(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE)
            .addToLabels(Labels.GROUP, "cache")
            .addToLabels(Labels.INSTANCE, "1")
            .addToLabels(Labels.MEMBER, "w")
            .addNewOwnerReference()
            .withApiVersion("sharedipc.dev/v1alpha1")
            .withKind("SharedIpcGroup")
            .withName("cache")
            .withUid(UID)
            .withController(true)
            .endOwnerReference()
            .endMetadata()
            .withNewSpec()
            .withNodeName("n1")
            .addNewContainer()
            .withName("w")
            .withImage("busybox")
            .endContainer()
            .addNewVolume()
            .withName("sharedipc-shm")
            .withNewHostPath()
            .withPath(root + "/" + DIR)
            .withType("Directory")
            .endHostPath()
            .endVolume()
            .endSpec()
            .withNewStatus()
            .withPhase("Pending")
            .endStatus();
    if (gid != null) {
      b.editMetadata().addToAnnotations(Labels.SHARED_DIRECTORY_GID_ANNOTATION, gid).endMetadata();
    }
    return b;
  }

  static Pod member(String gid) {
    return member("/dev/shm/sharedipc", gid).build();
  }
}
