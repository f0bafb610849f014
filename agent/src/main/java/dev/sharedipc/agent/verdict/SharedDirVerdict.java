package dev.sharedipc.agent.verdict;

/**
 * What {@link SharedDirJudge} concludes about a SameNode shared directory. Only {@link #Remove}
 * leads to removal.
 */
public enum SharedDirVerdict {
  /**
   * Not plainly a directory under the shared root (a symbolic link, resolves elsewhere, a mount
   * under it): kept.
   */
  Unsafe,
  /** The name does not parse as {@code <namespace>_<group>_<index>}: kept. */
  Unattributed,
  /** Not connected to the API server, or the pod informer has not synced: kept. */
  ClusterUnknown,
  /** A pod of the instance is on this node. */
  InstancePresent,
  /**
   * No pod of the instance, but not for longer than the grace period (a rollout recreates pods in
   * seconds).
   */
  WithinGrace,
  /**
   * No pod for longer than the grace period, but whether a process still uses it is not known:
   * kept.
   */
  UsersUnknown,
  /**
   * No pod for longer than the grace period, but a process has a file under it open or mapped:
   * kept.
   */
  InUse,
  /** Every rule holds: remove it. */
  Remove
}
