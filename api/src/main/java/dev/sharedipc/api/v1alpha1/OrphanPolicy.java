package dev.sharedipc.api.v1alpha1;

/** What the node agent does with a segment whose users are all gone. */
public enum OrphanPolicy {
  /** Keep it, count it and report it (the default: never destroys data). */
  Report,
  /** Remove it once every safety rule holds and the grace period has passed. */
  Delete;

  /** Delete is the stronger (more destructive) policy. */
  public boolean isStrongerThan(OrphanPolicy other) {
    return this.ordinal() > other.ordinal();
  }
}
