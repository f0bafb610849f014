package dev.sharedipc.api;

/**
 * Label and annotation keys that the operator puts on every object it creates and that the agent
 * reads back to attribute memory to a group. One place, so that the two never disagree.
 */
public final class Labels {
  public static final String DOMAIN = "sharedipc.dev";

  public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
  public static final String MANAGED_BY_VALUE = "sharedipc-operator";
  public static final String GROUP = DOMAIN + "/group";
  public static final String INSTANCE = DOMAIN + "/instance";
  public static final String MEMBER = DOMAIN + "/member";

  /**
   * Hash of everything in a pod that came from the group spec; a change means "replace the pod".
   */
  public static final String TEMPLATE_HASH_ANNOTATION = DOMAIN + "/template-hash";

  /**
   * On the first member pod of a SameNode instance whose shared memory is accounted to no member:
   * the bytes of node tmpfs the instance reserves, which no pod request covers. Placement counts
   * it.
   */
  public static final String NODE_SHARED_BYTES_ANNOTATION = DOMAIN + "/node-shared-bytes";

  /**
   * On every member pod of a SameNode instance that shares a node directory (hostPath): the group
   * id the node agent gives that directory (owner root, this group, mode 2770), the members' common
   * {@code fsGroup} or else their common {@code runAsGroup}. Absent: group 0.
   */
  public static final String SHARED_DIRECTORY_GID_ANNOTATION = DOMAIN + "/shared-directory-gid";

  private Labels() {}
}
