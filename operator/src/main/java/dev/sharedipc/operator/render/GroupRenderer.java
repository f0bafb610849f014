package dev.sharedipc.operator.render;

import dev.sharedipc.api.CsiVolume;
import dev.sharedipc.api.Labels;
import dev.sharedipc.api.v1alpha1.MemberSpec;
import dev.sharedipc.api.v1alpha1.Placement;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcGroupSpec;
import dev.sharedipc.api.v1alpha1.SharedMemoryMedium;
import dev.sharedipc.api.v1alpha1.SharedMemorySpec;
import dev.sharedipc.operator.assessment.Assessment;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.CSIVolumeSource;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EmptyDirVolumeSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HostPathVolumeSource;
import io.fabric8.kubernetes.api.model.NodeAffinity;
import io.fabric8.kubernetes.api.model.NodeSelector;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.NodeSelectorTerm;
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
import java.util.function.BooleanSupplier;

/**
 * The desired pods of a group as a pure function of its spec (and, for SameNode, of the node each
 * instance was placed on). Used by the reconciler and by the offline {@code render} command alike.
 *
 * <p>SamePod: one pod per instance, every member a container of it, one memory-backed emptyDir
 * mounted at mountPath in every container. SameNode: one pod per member, pinned to the instance's
 * node by a required node affinity on the node's name (the scheduler still binds it), sharing the
 * instance's memory through an inline csi volume of the driver shm.sharedipc.dev (one sized tmpfs
 * per instance) or a per-instance directory of the node's tmpfs through a hostPath volume ({@link
 * SharedMemoryMedia} chooses), and the node's IPC namespace when hostIPC is set.
 */
public final class GroupRenderer {
  /** Name of the volume that carries the shared memory in every member. */
  public static final String SHARED_VOLUME = "sharedipc-shm";

  /**
   * Where SameNode shared directories live on a node unless configured otherwise: /dev/shm is a
   * tmpfs.
   */
  public static final String DEFAULT_NODE_SHARED_ROOT = "/dev/shm/sharedipc";

  private final KubernetesSerialization serialization = new KubernetesSerialization();
  private final PodTemplateMerger merger = new PodTemplateMerger();
  private final MemoryAccounting accounting = new MemoryAccounting();
  private final String nodeSharedRoot;
  private final BooleanSupplier csiDriverInstalled;

  public GroupRenderer() {
    this(DEFAULT_NODE_SHARED_ROOT);
  }

  public GroupRenderer(String nodeSharedRoot) {
    this(nodeSharedRoot, () -> false);
  }

  /**
   * @param csiDriverInstalled whether a CSIDriver object {@code shm.sharedipc.dev} exists now (the
   *     operator's informer cache): decides the SameNode medium when the spec names none
   */
  public GroupRenderer(String nodeSharedRoot, BooleanSupplier csiDriverInstalled) {
    this.nodeSharedRoot = nodeSharedRoot;
    this.csiDriverInstalled = csiDriverInstalled;
  }

  /**
   * Renders every instance; SameNode pods come out unpinned (the node is chosen at placement).
   *
   * @throws MergeConflict when the spec cannot become pods; the message says what to change
   */
  public DesiredState render(SharedIpcGroup group) {
    return render(group, null);
  }

  /**
   * As {@link #render(SharedIpcGroup)}, for a group whose pods use {@code mediumInUse} for their
   * shared memory ({@link SharedMemoryMedia#inUse}; null when it has none).
   */
  public DesiredState render(SharedIpcGroup group, SharedMemoryMedium mediumInUse) {
    if (group.getSpec().getPlacement() == Placement.SameNode) {
      Map<Integer, String> unplaced = new LinkedHashMap<>();
      for (int i = 0; i < replicas(group); i++) {
        unplaced.put(i, null);
      }
      return renderSameNode(group, unplaced, mediumInUse);
    }
    SharedIpcGroupSpec spec = copy(group.getSpec(), SharedIpcGroupSpec.class);
    List<MemberSpec> members = spec.getMembers();
    SharedMemorySpec sharedMemory = sharedMemory(spec);
    PodTemplateSpec merged = merger.merge(members);
    PodSpec podSpec = merged.getSpec();
    Volume emptyDir = new Volume();
    emptyDir.setEmptyDir(new EmptyDirVolumeSource("Memory", sharedMemory.getSize()));
    addSharedVolume(podSpec, emptyDir, sharedMemory);
    MemoryAccounting.Accounted accounted =
        accounting.applyAccountTo(podSpec, members, sharedMemory);
    Assessment memory = accounting.judge(podSpec, members, sharedMemory, accounted, true);

    String hash = hash(merged);
    List<Pod> pods = new ArrayList<>();
    for (int index = 0; index < replicas(group); index++) {
      pods.add(pod(group, podName(group, index), index, null, merged, hash, null));
    }
    return new DesiredState(pods, memory);
  }

  /**
   * Renders the member pods of the given SameNode instances, each pinned to its node (a null node
   * renders the pods unpinned).
   */
  public DesiredState renderSameNode(SharedIpcGroup group, Map<Integer, String> nodeByInstance) {
    return renderSameNode(group, nodeByInstance, null);
  }

  /**
   * As {@link #renderSameNode(SharedIpcGroup, Map)}, for a group whose pods use {@code mediumInUse}
   * ({@link SharedMemoryMedia#inUse}; null when it has none): kept when the spec names no medium.
   */
  public DesiredState renderSameNode(
      SharedIpcGroup group, Map<Integer, String> nodeByInstance, SharedMemoryMedium mediumInUse) {
    SharedIpcGroupSpec spec = copy(group.getSpec(), SharedIpcGroupSpec.class);
    SharedMemorySpec sharedMemory = sharedMemory(spec);
    List<MemberSpec> members = spec.getMembers();
    PodSpec all = new PodSpec();
    all.setContainers(new ArrayList<>());
    List<PodTemplateSpec> templates = new ArrayList<>();
    for (MemberSpec member : members) {
      // Each member alone through the merger: the same checks (containers present) as SamePod.
      PodTemplateSpec template = merger.merge(List.of(member));
      template.getSpec().setHostIPC(Boolean.TRUE.equals(spec.getHostIPC()) ? true : null);
      templates.add(template);
      all.getContainers().addAll(template.getSpec().getContainers());
    }
    // accountTo raises the member's own pod: its container (shared with `all`) and its pod-level
    // resources.
    PodSpec accountToPod = all;
    for (int m = 0; m < members.size(); m++) {
      if (members.get(m).getName().equals(sharedMemory.getAccountTo())) {
        accountToPod = templates.get(m).getSpec();
      }
    }
    MemoryAccounting.Accounted accounted =
        accounting.applyAccountTo(accountToPod, members, sharedMemory);
    SharedMemoryMedia.Choice medium =
        SharedMemoryMedia.choose(sharedMemory, csiDriverInstalled.getAsBoolean(), mediumInUse);
    Assessment judged = accounting.judge(all, members, sharedMemory, accounted, false);
    Assessment memory =
        new Assessment(judged.holds(), judged.reason(), judged.message() + " " + medium.message());
    // One group for the instance's memory, whichever the medium: an annotation the agent reads for
    // a hostPath directory, a volume attribute the CSI driver reads for its tmpfs.
    Long sharedGid = sharedDirectoryGid(templates);
    if (medium.medium() == SharedMemoryMedium.CSI && sharedGid == null && setsAGroup(templates)) {
      throw new MergeConflict(
          SHARED_MEMORY_GROUP_CONFLICT,
          "the members set group ids with none in common ("
              + memberGroups(members, templates)
              + "), and an instance's shared memory on CSI driver "
              + CsiVolume.DRIVER
              + " is one tmpfs with one group (owner root, mode 2770): a member that does not"
              + " hold that group cannot write there. Give every member the same fsGroup (or the"
              + " same runAsGroup in all its containers)");
    }
    Long directoryGid = medium.medium() == SharedMemoryMedium.CSI ? null : sharedGid;
    long tmpfsGid = sharedGid == null ? 0 : sharedGid;

    List<Pod> pods = new ArrayList<>();
    for (Map.Entry<Integer, String> placed : nodeByInstance.entrySet()) {
      int index = placed.getKey();
      for (int m = 0; m < members.size(); m++) {
        PodTemplateSpec template = copy(templates.get(m), PodTemplateSpec.class);
        addSharedVolume(
            template.getSpec(),
            sharedVolume(group, index, sharedMemory, medium.medium(), tmpfsGid),
            sharedMemory);
        if (directoryGid != null) {
          if (template.getMetadata().getAnnotations() == null) {
            template.getMetadata().setAnnotations(new LinkedHashMap<>());
          }
          template
              .getMetadata()
              .getAnnotations()
              .put(Labels.SHARED_DIRECTORY_GID_ANNOTATION, Long.toString(directoryGid));
        }
        String hash = hash(template);
        String member = members.get(m).getName();
        Pod pod =
            pod(
                group,
                podName(group, index, member),
                index,
                member,
                template,
                hash,
                placed.getValue());
        if (m == 0 && accounted == null) {
          pod.getMetadata()
              .getAnnotations()
              .put(
                  Labels.NODE_SHARED_BYTES_ANNOTATION,
                  Long.toString(Quantities.bytes(sharedMemory.getSize())));
        }
        pods.add(pod);
      }
    }
    return new DesiredState(pods, memory);
  }

  /** The volume that carries an instance's shared memory into each member, in the chosen medium. */
  private Volume sharedVolume(
      SharedIpcGroup group,
      int index,
      SharedMemorySpec sharedMemory,
      SharedMemoryMedium medium,
      long tmpfsGid) {
    Volume volume = new Volume();
    if (medium == SharedMemoryMedium.CSI) {
      // An inline (ephemeral) csi volume: the driver mounts one tmpfs of exactly size per instance,
      // checks that
      // the pod is the group's member, and frees it with the instance's last member.
      String uid = group.getMetadata().getUid();
      Map<String, String> attributes = new LinkedHashMap<>();
      attributes.put(CsiVolume.GROUP, group.getMetadata().getName());
      attributes.put(CsiVolume.GROUP_UID, uid == null ? "" : uid);
      attributes.put(CsiVolume.INSTANCE, Integer.toString(index));
      attributes.put(CsiVolume.SIZE, sharedMemory.getSize().toString());
      attributes.put(CsiVolume.GID, Long.toString(tmpfsGid));
      volume.setCsi(new CSIVolumeSource(CsiVolume.DRIVER, null, null, null, attributes));
      return volume;
    }
    // The node agent creates the directory (owner root, the members' group, mode 2770) when a
    // member is bound to its node; "Directory" makes the kubelet wait for it rather than make a
    // root-owned 0755 one that non-root members cannot write.
    String dir = nodeSharedRoot + "/" + sharedDirectoryName(group, index);
    volume.setHostPath(new HostPathVolumeSource(dir, "Directory"));
    return volume;
  }

  /**
   * Per-instance directory under the node's shared root, {@code <namespace>_<group>_<uid>_<index>}
   * ('_' never occurs in Kubernetes names or UIDs): the uid keeps a group created again under the
   * same name away from the old group's files. A group without a uid (offline render of a file)
   * gets {@code <namespace>_<group>_<index>}.
   */
  public static String sharedDirectoryName(SharedIpcGroup group, int index) {
    String uid = group.getMetadata().getUid();
    return group.getMetadata().getNamespace()
        + "_"
        + group.getMetadata().getName()
        + "_"
        + (uid == null || uid.isEmpty() ? "" : uid + "_")
        + index;
  }

  /**
   * The group id every member's processes hold, for the shared directory's group: the members'
   * common pod {@code fsGroup} (the kubelet adds it to every container's groups), else the common
   * {@code runAsGroup} of all their containers (container setting, else the pod's). Null when the
   * members share neither: the directory then belongs to group 0.
   */
  static Long sharedDirectoryGid(List<PodTemplateSpec> members) {
    Long fsGroup =
        common(
            members.stream()
                .map(
                    t ->
                        t.getSpec().getSecurityContext() == null
                            ? null
                            : t.getSpec().getSecurityContext().getFsGroup())
                .toList());
    if (fsGroup != null) {
      return fsGroup;
    }
    List<Long> runAsGroups = new ArrayList<>();
    for (PodTemplateSpec t : members) {
      Long podLevel =
          t.getSpec().getSecurityContext() == null
              ? null
              : t.getSpec().getSecurityContext().getRunAsGroup();
      List<Container> containers = new ArrayList<>(t.getSpec().getContainers());
      if (t.getSpec().getInitContainers() != null) {
        containers.addAll(t.getSpec().getInitContainers());
      }
      for (Container c : containers) {
        Long own = c.getSecurityContext() == null ? null : c.getSecurityContext().getRunAsGroup();
        runAsGroups.add(own != null ? own : podLevel);
      }
    }
    return common(runAsGroups);
  }

  /** Whether any member sets a group id, by fsGroup or runAsGroup (pod or container). */
  private static boolean setsAGroup(List<PodTemplateSpec> members) {
    for (PodTemplateSpec t : members) {
      if (!groups(t).isEmpty()) {
        return true;
      }
    }
    return false;
  }

  /** Each member's group ids, for a message: {@code member w (fsGroup 1000), member r (none)}. */
  private static String memberGroups(List<MemberSpec> specs, List<PodTemplateSpec> members) {
    List<String> described = new ArrayList<>();
    for (int m = 0; m < members.size(); m++) {
      List<String> groups = groups(members.get(m));
      described.add(
          "member "
              + specs.get(m).getName()
              + " ("
              + (groups.isEmpty() ? "none" : String.join(", ", groups))
              + ")");
    }
    return String.join(", ", described);
  }

  /** The group ids one member's template sets, as {@code fsGroup 1000}, {@code runAsGroup 3000}. */
  private static List<String> groups(PodTemplateSpec t) {
    List<String> groups = new ArrayList<>();
    if (t.getSpec().getSecurityContext() != null) {
      if (t.getSpec().getSecurityContext().getFsGroup() != null) {
        groups.add("fsGroup " + t.getSpec().getSecurityContext().getFsGroup());
      }
      if (t.getSpec().getSecurityContext().getRunAsGroup() != null) {
        groups.add("runAsGroup " + t.getSpec().getSecurityContext().getRunAsGroup());
      }
    }
    List<Container> containers = new ArrayList<>(t.getSpec().getContainers());
    if (t.getSpec().getInitContainers() != null) {
      containers.addAll(t.getSpec().getInitContainers());
    }
    for (Container c : containers) {
      if (c.getSecurityContext() != null && c.getSecurityContext().getRunAsGroup() != null) {
        groups.add(
            "container " + c.getName() + " runAsGroup " + c.getSecurityContext().getRunAsGroup());
      }
    }
    return groups;
  }

  /** The one value all share, or null when one is missing or two differ. */
  private static Long common(List<Long> values) {
    if (values.isEmpty() || values.contains(null) || values.stream().distinct().count() != 1) {
      return null;
    }
    return values.get(0);
  }

  public static String podName(SharedIpcGroup group, int index) {
    return group.getMetadata().getName() + "-" + index;
  }

  public static String podName(SharedIpcGroup group, int index, String member) {
    return group.getMetadata().getName() + "-" + index + "-" + member;
  }

  /** The names of an instance's pods, whichever the placement. */
  public static List<String> podNames(SharedIpcGroup group, int index) {
    if (group.getSpec().getPlacement() != Placement.SameNode) {
      return List.of(podName(group, index));
    }
    return group.getSpec().getMembers().stream()
        .map(m -> podName(group, index, m.getName()))
        .toList();
  }

  public static int replicas(SharedIpcGroup group) {
    return group.getSpec().getReplicas() == null ? 1 : group.getSpec().getReplicas();
  }

  private Pod pod(
      SharedIpcGroup group,
      String name,
      int index,
      String member,
      PodTemplateSpec template,
      String hash,
      String node) {
    PodTemplateSpec copy = copy(template, PodTemplateSpec.class);
    ObjectMeta meta = new ObjectMeta();
    meta.setName(name);
    meta.setNamespace(group.getMetadata().getNamespace());
    Map<String, String> labels = new LinkedHashMap<>(copy.getMetadata().getLabels());
    labels.putAll(selectorLabels(group));
    labels.put(Labels.INSTANCE, Integer.toString(index));
    if (member != null) {
      labels.put(Labels.MEMBER, member);
    }
    meta.setLabels(labels);
    Map<String, String> annotations = new LinkedHashMap<>(copy.getMetadata().getAnnotations());
    annotations.put(Labels.TEMPLATE_HASH_ANNOTATION, hash);
    meta.setAnnotations(annotations);
    if (group.getMetadata().getUid() != null) {
      meta.setOwnerReferences(List.of(ownerReference(group)));
    }
    for (Container container : copy.getSpec().getContainers()) {
      List<EnvVar> env =
          new ArrayList<>(container.getEnv() == null ? List.of() : container.getEnv());
      env.add(new EnvVar("SHAREDIPC_GROUP", group.getMetadata().getName(), null));
      env.add(new EnvVar("SHAREDIPC_INSTANCE", Integer.toString(index), null));
      if (member != null) {
        env.add(new EnvVar("SHAREDIPC_MEMBER", member, null));
      }
      container.setEnv(env);
    }
    if (node != null) {
      pinToNode(copy.getSpec(), node);
    }
    Pod pod = new Pod();
    pod.setApiVersion("v1");
    pod.setKind("Pod");
    pod.setMetadata(meta);
    pod.setSpec(copy.getSpec());
    return pod;
  }

  /**
   * Requires the node by name, ANDed into every node selector term the member already has (terms
   * are ORed, so the pin must be in each), and leaves binding to the scheduler.
   */
  static void pinToNode(PodSpec spec, String node) {
    NodeSelectorRequirement onNode =
        new NodeSelectorRequirement("metadata.name", "In", List.of(node));
    Affinity affinity = spec.getAffinity() == null ? new Affinity() : spec.getAffinity();
    NodeAffinity nodeAffinity =
        affinity.getNodeAffinity() == null ? new NodeAffinity() : affinity.getNodeAffinity();
    NodeSelector required = nodeAffinity.getRequiredDuringSchedulingIgnoredDuringExecution();
    if (required == null
        || required.getNodeSelectorTerms() == null
        || required.getNodeSelectorTerms().isEmpty()) {
      required = new NodeSelector(List.of(new NodeSelectorTerm(null, null)));
    }
    List<NodeSelectorTerm> terms = new ArrayList<>();
    for (NodeSelectorTerm term : required.getNodeSelectorTerms()) {
      List<NodeSelectorRequirement> fields =
          new ArrayList<>(term.getMatchFields() == null ? List.of() : term.getMatchFields());
      fields.add(onNode);
      terms.add(new NodeSelectorTerm(term.getMatchExpressions(), fields));
    }
    nodeAffinity.setRequiredDuringSchedulingIgnoredDuringExecution(new NodeSelector(terms));
    affinity.setNodeAffinity(nodeAffinity);
    spec.setAffinity(affinity);
  }

  /** The node a pod was pinned to (SameNode), if any. */
  public static String pinnedNode(Pod pod) {
    if (pod.getSpec().getNodeName() != null) {
      return pod.getSpec().getNodeName();
    }
    Affinity affinity = pod.getSpec().getAffinity();
    if (affinity == null
        || affinity.getNodeAffinity() == null
        || affinity.getNodeAffinity().getRequiredDuringSchedulingIgnoredDuringExecution() == null) {
      return null;
    }
    for (NodeSelectorTerm term :
        affinity
            .getNodeAffinity()
            .getRequiredDuringSchedulingIgnoredDuringExecution()
            .getNodeSelectorTerms()) {
      for (NodeSelectorRequirement field :
          term.getMatchFields() == null
              ? List.<NodeSelectorRequirement>of()
              : term.getMatchFields()) {
        if ("metadata.name".equals(field.getKey())
            && "In".equals(field.getOperator())
            && field.getValues().size() == 1) {
          return field.getValues().get(0);
        }
      }
    }
    return null;
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

  /**
   * The reason of SameNode members on the CSI driver that set group ids with none in common: the
   * instance's one tmpfs can have only one group.
   */
  public static final String SHARED_MEMORY_GROUP_CONFLICT = "SharedMemoryGroupConflict";

  /** The reason of a sharedMemory.size the operator cannot hold in a count of bytes. */
  public static final String SIZE_OUT_OF_RANGE = "SharedMemorySizeOutOfRange";

  private static SharedMemorySpec sharedMemory(SharedIpcGroupSpec spec) {
    SharedMemorySpec sharedMemory = spec.getSharedMemory();
    if (sharedMemory == null || sharedMemory.getSize() == null) {
      throw new MergeConflict(
          "SharedMemoryMissing",
          "spec.sharedMemory.size is required: say how much memory the members"
              + " of an instance share (for example sharedMemory: {size: 512Mi})");
    }
    // The CRD refuses such a size; one stored before it did stops here, for its own group only.
    if (Quantities.sizeBytes(sharedMemory.getSize()).isEmpty()) {
      throw new MergeConflict(
          SIZE_OUT_OF_RANGE,
          "spec.sharedMemory.size "
              + sharedMemory.getSize()
              + " is not a size the operator and the CSI driver can hold: they count bytes in a"
              + " signed 64-bit integer, so it must be positive and below 8Ei (at most "
              + Quantities.MAX_BYTES
              + " bytes); choose a smaller size");
    }
    return sharedMemory;
  }

  /**
   * Adds {@code volume} (its source set) as the shared volume, mounted at mountPath in every
   * container.
   */
  private static void addSharedVolume(PodSpec pod, Volume volume, SharedMemorySpec sharedMemory) {
    String mountPath =
        sharedMemory.getMountPath() == null ? "/dev/shm" : sharedMemory.getMountPath();
    if (pod.getVolumes() == null) {
      pod.setVolumes(new ArrayList<>());
    }
    for (Volume declared : pod.getVolumes()) {
      if (declared.getName().equals(SHARED_VOLUME)) {
        throw new MergeConflict(
            "a member declares a volume named "
                + SHARED_VOLUME
                + ", which the operator reserves"
                + " for the shared memory; rename it");
      }
    }
    volume.setName(SHARED_VOLUME);
    pod.getVolumes().add(volume);
    for (Container container : pod.getContainers()) {
      List<VolumeMount> mounts =
          new ArrayList<>(
              container.getVolumeMounts() == null ? List.of() : container.getVolumeMounts());
      for (VolumeMount mount : mounts) {
        if (mount.getMountPath().equals(mountPath)) {
          throw new MergeConflict(
              "container "
                  + container.getName()
                  + " already mounts volume "
                  + mount.getName()
                  + " at "
                  + mountPath
                  + ", where the shared memory goes; change sharedMemory.mountPath or the mount");
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
      byte[] digest =
          MessageDigest.getInstance("SHA-256")
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
