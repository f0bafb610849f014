package dev.sharedipc.agent.verdict;

/**
 * What {@link PosixObjectJudge} concludes about a POSIX shared-memory object (a file in a memory
 * volume). Only {@link #Remove} leads to removal; the reaper re-checks before it unlinks.
 */
public enum PosixObjectVerdict {
  /**
   * In the host's own /dev/shm: it belongs to no pod, so no group's policy can apply. Never
   * removed.
   */
  Host,
  /**
   * Not a regular file (a directory, a symbolic link, a device, a socket): never removed, never
   * followed.
   */
  NotRegular,
  /** Its volume is not attributed to exactly one pod: kept. */
  Unattributed,
  /**
   * Whether a process has it open or mapped is not known (a process table could not be read): kept.
   */
  UsersUnknown,
  /** A process on the node has it open or mapped: in use, kept. */
  InUse,
  /**
   * Nobody uses it, and the effective policy of its group is Report: kept and reported as an
   * orphan.
   */
  KeptByPolicy,
  /** Nobody uses it, policy Delete, but it was modified within the grace period: kept for now. */
  WithinGrace,
  /** Every rule holds: remove it. */
  Remove
}
