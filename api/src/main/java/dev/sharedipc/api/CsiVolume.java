package dev.sharedipc.api;

/**
 * The inline {@code csi} volume of a SameNode member with shared-memory medium CSI: the driver name
 * and the volume attributes the operator writes and the node plugin reads. One definition for both.
 */
public final class CsiVolume {
  /** The CSI driver (and CSIDriver object) name. */
  public static final String DRIVER = "shm." + Labels.DOMAIN;

  /** Attribute: the group's name. */
  public static final String GROUP = "group";

  /** Attribute: the group's metadata.uid; instances are keyed by namespace, group uid and index. */
  public static final String GROUP_UID = "groupUID";

  /** Attribute: the instance index, as in the instance label. */
  public static final String INSTANCE = "instance";

  /** Attribute: the tmpfs size, a Kubernetes quantity (spec.sharedMemory.size). */
  public static final String SIZE = "size";

  /**
   * Attribute: the group id of the instance's tmpfs (owner root, this group, mode 2770), the one
   * every member's processes hold: their common {@code fsGroup}, else the common {@code runAsGroup}
   * of all their containers, else 0, as for a SameNode shared directory. Chosen by the operator,
   * which sees every member; absent in pods rendered before it existed (the driver then takes the
   * pod's fsGroup).
   */
  public static final String GID = "gid";

  private CsiVolume() {}
}
