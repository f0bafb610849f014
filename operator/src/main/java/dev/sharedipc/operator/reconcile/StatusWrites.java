package dev.sharedipc.operator.reconcile;

import dev.sharedipc.api.v1alpha1.SharedIpcGroupStatus;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Whether a group's computed status must be written. The primary a reconcile is given can be older
 * than the operator's own last status write: the informer has not delivered that write yet, and
 * JOSDK drops the primary's status-only events (generation-aware processing), so no later event
 * makes up for it. A status equal to such a stale one is not what stands on the API server; it is
 * compared with the last write too (its hash, per group UID).
 *
 * <p>Seen in SameNodePlacementE2E.aDeletedMemberComesBackOnItsNodeWhileTheOtherKeepsRunning: the
 * reconcile that re-created a deleted member wrote "pod ... is being created"; the next one, run
 * for the pod's own events, was given the group as it stood before (the instance whole), found the
 * instance whole again, equal to that, and wrote nothing. "Being created" stood for good.
 */
final class StatusWrites {
  /** Bounded: past it the memory is dropped, and at worst a status is written once more. */
  static final int MAX_GROUPS = 100_000;

  private final Map<String, Integer> lastWritten = new ConcurrentHashMap<>();

  /** Whether {@code computed} differs from the primary's status or from the last one written. */
  boolean needed(String groupUid, SharedIpcGroupStatus onPrimary, SharedIpcGroupStatus computed) {
    Integer last = lastWritten.get(groupUid);
    return !Objects.equals(onPrimary, computed)
        || (last != null && last.intValue() != computed.hashCode());
  }

  /** {@code status} is being written for the group. */
  void writing(String groupUid, SharedIpcGroupStatus status) {
    if (lastWritten.size() >= MAX_GROUPS) {
      lastWritten.clear();
    }
    lastWritten.put(groupUid, status.hashCode());
  }

  void forgetAllBut(Set<String> liveGroupUids) {
    lastWritten.keySet().retainAll(liveGroupUids);
  }
}
