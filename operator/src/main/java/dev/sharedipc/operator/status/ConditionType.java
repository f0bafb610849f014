package dev.sharedipc.operator.status;

/** The fixed set of conditions every SharedIpcGroup carries, in the order they are listed. */
public enum ConditionType {
  /** Every instance has all its members ready. */
  Ready,
  /** Every instance's pods exist and are scheduled onto a node. */
  Placed,
  /** The shared memory fits in the memory budget it is charged to. */
  MemoryAccounted,
  /** The instances' System V segments stay within spec.segments quotas (from the node agents). */
  WithinQuota,
  /** The group obeys every SharedIpcPolicy that selects its namespace. */
  PolicyCompliant
}
