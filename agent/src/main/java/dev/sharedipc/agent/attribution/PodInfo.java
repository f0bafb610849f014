package dev.sharedipc.agent.attribution;

/**
 * A pod as the API server knows it: what attribution adds to a UID. {@code group} and {@code
 * instance} come from the sharedipc.dev labels and are null for pods outside any group.
 */
public record PodInfo(String uid, String namespace, String name, String group, Integer instance) {
  /** "namespace/group", the key of a group's policy, or null outside any group. */
  public String groupKey() {
    return group == null ? null : namespace + "/" + group;
  }
}
