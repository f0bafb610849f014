package dev.sharedipc.api.v1alpha1;

/** How the members of one instance are put together so that they can share memory. */
public enum Placement {
  /** One pod per instance; every member is a container of it, so they share its IPC namespace. */
  SamePod,
  /** One pod per member; all pods of an instance on one node. */
  SameNode
}
