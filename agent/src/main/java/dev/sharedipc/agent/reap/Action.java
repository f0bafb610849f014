package dev.sharedipc.agent.reap;

/** What the reaper did with a segment. */
public enum Action {
  /** IPC_RMID succeeded after every re-check held. */
  Removed,
  /** Dry run: every rule held at judgement; nothing was done. */
  WouldRemove,
  /** The verdict keeps it. */
  Kept,
  /** Judged removable, but a re-check just before acting failed: kept. */
  Spared,
  /**
   * Judged removable, re-checks held, but the kernel refused or the namespace could not be joined.
   */
  Failed
}
