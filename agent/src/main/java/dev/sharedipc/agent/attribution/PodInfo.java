package dev.sharedipc.agent.attribution;

/**
 * A pod as the API server knows it: what attribution adds to a UID. {@code group} and {@code
 * instance} come from the sharedipc.dev labels and are null for pods outside any group; {@code
 * groupUid} is the UID of the SharedIpcGroup that controls the pod (its controller ownerReference),
 * null when not known. Reports carry it so that the operator charges a group only with what is its
 * own, not with the leftovers of an earlier group of the same name.
 */
public record PodInfo(
    String uid, String namespace, String name, String group, Integer instance, String groupUid) {
  /** A pod whose group's UID is not known. */
  public PodInfo(String uid, String namespace, String name, String group, Integer instance) {
    this(uid, namespace, name, group, instance, null);
  }

  /** "namespace/group", the key of a group's policy, or null outside any group. */
  public String groupKey() {
    return group == null ? null : namespace + "/" + group;
  }
}
