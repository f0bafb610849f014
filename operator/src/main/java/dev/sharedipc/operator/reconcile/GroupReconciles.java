package dev.sharedipc.operator.reconcile;

import io.javaoperatorsdk.operator.processing.event.ResourceID;

/**
 * Told what the group controller did with node reports: how many groups one report update woke, and
 * how many reports each group reconcile read. The operator's metrics listen (so a benchmark can
 * print reconciles per report update); a test may listen too, to count one group's reconciles.
 */
public interface GroupReconciles {
  GroupReconciles NONE = new GroupReconciles() {};

  /** One SharedIpcNode event was mapped to this many groups to reconcile. */
  default void reportUpdate(int groupsWoken) {}

  /** One reconcile of this group read this many node reports. */
  default void reconciled(ResourceID group, int reportsRead) {}

  /**
   * One reconcile ended with a status write (written) or found the status unchanged (not written).
   */
  default void statusWrite(boolean written) {}
}
