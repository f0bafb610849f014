package dev.sharedipc.operator.render;

import dev.sharedipc.api.Labels;
import dev.sharedipc.api.v1alpha1.MemberSpec;
import dev.sharedipc.api.v1alpha1.Placement;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcGroupSpec;
import dev.sharedipc.api.v1alpha1.SharedMemorySpec;
import dev.sharedipc.operator.Verdict;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EmptyDirVolumeSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The desired state of a SamePod group as a pure function of its spec: one pod per instance,
 * every member a container of it, one memory-backed emptyDir mounted at mountPath in every
 * container. Used by the reconciler and by the offline {@code render} command alike.
 */
public final class GroupRenderer {
  /** Name of the memory-backed volume every member mounts. */
  public static final String SHARED_VOLUME = "sharedipc-shm";

  private final KubernetesSerialization serialization = new KubernetesSerialization();
  private final PodTemplateMerger merger = new PodTemplateMerger();
  private final MemoryAccounting accounting = new MemoryAccounting();

  /**
   * Renders the group.
   *
   * @throws MergeConflict when the spec cannot become pods; the message says what to change
   */
  public DesiredState render(SharedIpcGroup group) {
    SharedIpcGroupSpec spec = copy(group.getSpec(), SharedIpcGroupSpec.class);
    if (spec.getPlacement() == Placement.SameNode) {
      throw new UnsupportedPlacement("placement SameNode is not supported by this operator version yet; use SamePod");
    }
    List<MemberSpec> members = spec.getMembers();
    SharedMemorySpec sharedMemory = spec.getSharedMemory();
    if (sharedMemory == null || sharedMemory.getSize() == null) {
      throw new MergeConflict("spec.sharedMemory.size is required");
    }
    PodTemplateSpec merged = merger.merge(members);
    PodSpec podSpec = merged.getSpec();
    addSharedVolume(podSpec, sharedMemory);
    String accounted = accounting.applyAccountTo(podSpec, members, sharedMemory);
    Verdict memory = accounting.judge(podSpec, members, sharedMemory, accounted);

    String hash = hash(merged);
    int replicas = spec.getReplicas() == null ? 1 : spec.getReplicas();
    List<Pod> pods = new ArrayList<>();
    for (int index = 0; index < replicas; index++) {
      pods.add(podFor(group, index, merged, hash));
    }
    return new DesiredState(pods, hash, memory);
  }

  public static String podName(SharedIpcGroup group, int index) {
    return group.getMetadata().getName() + "-" + index;
  }

  private Pod podFor(SharedIpcGroup group, int index, PodTemplateSpec template, String hash) {
    PodTemplateSpec copy = copy(template, PodTemplateSpec.class);
    ObjectMeta meta = new ObjectMeta();
    meta.setName(podName(group, index));
    meta.setNamespace(group.getMetadata().getNamespace());
    Map<String, String> labels = new LinkedHashMap<>(copy.getMetadata().getLabels());
    labels.putAll(selectorLabels(group));
    labels.put(Labels.INSTANCE, Integer.toString(index));
    meta.setLabels(labels);
    Map<String, String> annotations = new LinkedHashMap<>(copy.getMetadata().getAnnotations());
    annotations.put(Labels.TEMPLATE_HASH_ANNOTATION, hash);
    meta.setAnnotations(annotations);
    if (group.getMetadata().getUid() != null) {
      meta.setOwnerReferences(List.of(ownerReference(group)));
    }
    for (Container container : copy.getSpec().getContainers()) {
      List<EnvVar> env = new ArrayList<>(container.getEnv() == null ? List.of() : container.getEnv());
      env.add(new EnvVar("SHAREDIPC_GROUP", group.getMetadata().getName(), null));
      env.add(new EnvVar("SHAREDIPC_INSTANCE", Integer.toString(index), null));
      container.setEnv(env);
    }
    Pod pod = new Pod();
    pod.setApiVersion("v1");
    pod.setKind("Pod");
    pod.setMetadata(meta);
    pod.setSpec(copy.getSpec());
    return pod;
  }

  /** The labels that identify a group's objects (without the instance label). */
  public static Map<String, String> selectorLabels(SharedIpcGroup group) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE);
    labels.put(Labels.GROUP, group.getMetadata().getName());
    return labels;
  }

  public static OwnerReference ownerReference(SharedIpcGroup group) {
    return new OwnerReferenceBuilder()
        .withApiVersion(group.getApiVersion())
        .withKind(group.getKind())
        .withName(group.getMetadata().getName())
        .withUid(group.getMetadata().getUid())
        .withController(true)
        .withBlockOwnerDeletion(true)
        .build();
  }

  private static void addSharedVolume(PodSpec pod, SharedMemorySpec sharedMemory) {
    String mountPath = sharedMemory.getMountPath() == null ? "/dev/shm" : sharedMemory.getMountPath();
    for (Volume volume : pod.getVolumes()) {
      if (volume.getName().equals(SHARED_VOLUME)) {
        throw new MergeConflict("a member declares a volume named " + SHARED_VOLUME + ", which the operator reserves"
            + " for the shared memory; rename it");
      }
    }
    EmptyDirVolumeSource emptyDir = new EmptyDirVolumeSource("Memory", sharedMemory.getSize());
    Volume volume = new Volume();
    volume.setName(SHARED_VOLUME);
    volume.setEmptyDir(emptyDir);
    pod.getVolumes().add(volume);
    for (Container container : pod.getContainers()) {
      List<VolumeMount> mounts = new ArrayList<>(container.getVolumeMounts() == null ? List.of() : container.getVolumeMounts());
      for (VolumeMount mount : mounts) {
        if (mount.getMountPath().equals(mountPath)) {
          throw new MergeConflict("container " + container.getName() + " already mounts volume " + mount.getName()
              + " at " + mountPath + ", where the shared memory goes; change sharedMemory.mountPath or the mount");
        }
      }
      VolumeMount shared = new VolumeMount();
      shared.setName(SHARED_VOLUME);
      shared.setMountPath(mountPath);
      mounts.add(shared);
      container.setVolumeMounts(mounts);
    }
  }

  private String hash(PodTemplateSpec template) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256")
          .digest(serialization.asJson(template).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always present in the JDK", e);
    }
  }

  private <T> T copy(T value, Class<T> type) {
    return serialization.unmarshal(serialization.asJson(value), type);
  }
}
