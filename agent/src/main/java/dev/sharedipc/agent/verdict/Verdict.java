package dev.sharedipc.agent.verdict;

/**
 * What the agent concludes about one segment. Only {@link #Remove} leads to removal; every other
 * verdict keeps the segment. {@link #Orphaned} and {@link #Remove} count as orphans.
 */
public enum Verdict {
  /** Attached right now (nattch &gt; 0). */
  InUse,
  /** Its creator or last operator is alive in its namespace: someone may attach again. */
  OwnerAlive,
  /** Unattached, owners gone, but not for the whole grace period yet. */
  WithinGrace,
  /** Already marked with IPC_RMID; the kernel frees it at its last detach. */
  MarkedForRemoval,
  /** No pod is known for it: kept and reported, never removed. */
  Unattributed,
  /** The facts do not add up (several pods, unknown creator pid): kept and reported. */
  Ambiguous,
  /** An orphan kept because its group's policy is Report (or no policy is known). */
  Orphaned,
  /** An orphan whose group's policy is Delete: the reaper removes it after re-checking. */
  Remove;

  public boolean orphan() {
    return this == Orphaned || this == Remove;
  }
}
