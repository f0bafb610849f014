package dev.sharedipc.agent.csi;

import dev.sharedipc.agent.scan.SharedDirName;
import dev.sharedipc.api.CsiVolume;
import io.fabric8.kubernetes.api.model.Quantity;
import java.math.BigDecimal;
import java.util.Map;

/**
 * What one NodePublishVolume asks for, read from the volume attributes the operator renders into an
 * inline {@code csi} volume ({@link CsiVolume}: group, group UID, instance, size) and the pod
 * information the kubelet adds with {@code podInfoOnMount: true}; {@code gid}, the tmpfs's group
 * the operator chose for all the members, is optional (pods rendered before it lack it). The
 * instance is keyed by the pod's namespace, the group's UID and the instance index, as SameNode
 * shared directories are ({@link SharedDirName}): a group deleted and created again under the same
 * name never sees the old group's memory. Pure: a malformed request is an {@link
 * IllegalArgumentException} whose message names the attribute, which the node service answers with
 * INVALID_ARGUMENT.
 */
public record VolumeRequest(
    SharedDirName instance, long sizeBytes, String podName, String podUid, Integer gid) {
  public static final String GROUP = CsiVolume.GROUP;
  public static final String GROUP_UID = CsiVolume.GROUP_UID;
  public static final String INSTANCE = CsiVolume.INSTANCE;
  public static final String SIZE = CsiVolume.SIZE;
  public static final String GID = CsiVolume.GID;
  public static final String POD_NAME = "csi.storage.k8s.io/pod.name";
  public static final String POD_NAMESPACE = "csi.storage.k8s.io/pod.namespace";
  public static final String POD_UID = "csi.storage.k8s.io/pod.uid";

  public static VolumeRequest parse(Map<String, String> attributes) {
    String namespace =
        required(
            attributes,
            POD_NAMESPACE,
            " (the kubelet sends it when the CSIDriver object has podInfoOnMount: true)");
    String group = required(attributes, GROUP, "");
    String groupUid = required(attributes, GROUP_UID, "");
    String index = required(attributes, INSTANCE, "");
    String podName = required(attributes, POD_NAME, " (podInfoOnMount: true)");
    String podUid = required(attributes, POD_UID, " (podInfoOnMount: true)");
    SharedDirName name =
        SharedDirName.parse(namespace + "_" + group + "_" + groupUid + "_" + index)
            .filter(n -> n.groupUid() != null)
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "volume attributes namespace="
                            + namespace
                            + " group="
                            + group
                            + " groupUID="
                            + groupUid
                            + " instance="
                            + index
                            + " do not name an instance: expected Kubernetes names, the group's metadata.uid and a non-negative index"));
    return new VolumeRequest(
        name, sizeBytes(required(attributes, SIZE, "")), podName, podUid, gid(attributes.get(GID)));
  }

  /** The operator's gid attribute; null when absent (a pod rendered before the attribute). */
  static Integer gid(String gid) {
    if (gid == null || gid.isEmpty()) {
      return null;
    }
    try {
      int value = Integer.parseInt(gid);
      if (value >= 0) {
        return value;
      }
    } catch (NumberFormatException e) {
      // said below
    }
    throw new IllegalArgumentException(
        "volume attribute " + GID + "=" + gid + " is not a group id (a non-negative integer)");
  }

  /** The tmpfs size in bytes from a Kubernetes quantity such as {@code 64Mi}. */
  static long sizeBytes(String size) {
    BigDecimal bytes;
    try {
      bytes = Quantity.getAmountInBytes(new Quantity(size));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "volume attribute size=" + size + " is not a Kubernetes quantity such as 64Mi", e);
    }
    if (bytes.signum() <= 0 || bytes.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
      throw new IllegalArgumentException(
          "volume attribute size=" + size + " must be a positive size such as 64Mi");
    }
    return bytes.setScale(0, java.math.RoundingMode.CEILING).longValueExact();
  }

  private static String required(Map<String, String> attributes, String key, String hint) {
    String value = attributes.get(key);
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException("volume attribute " + key + " is missing" + hint);
    }
    return value;
  }
}
