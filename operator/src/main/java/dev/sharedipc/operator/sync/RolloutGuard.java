package dev.sharedipc.operator.sync;

import dev.sharedipc.operator.pods.Pods;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps a sync from taking a rollout step on a view that does not show its last one. The operator's
 * cache lags the API server: right after a step evicts or deletes working pods, the cache can still
 * show them Ready and not terminating, and a step judged on that view (the same view in another
 * order, or the group's spec changed again meanwhile) would take a second working instance away. So
 * a sync records, per group (by UID), the working pods each rollout step removed, and takes no
 * further step until its cache shows every one of them terminating or gone; their own updates wake
 * the group again. Both syncs use it: {@code reconcile.PodSync} and {@code samenode.SameNodeSync}.
 */
public final class RolloutGuard {
  private final Map<String, Set<String>> unseen = new ConcurrentHashMap<>();

  /**
   * Remembers the working pods (by UID) that a rollout step of the group removed just now; none
   * changes nothing.
   */
  public void removed(String groupUid, Collection<String> podUids) {
    if (!podUids.isEmpty()) {
      unseen.put(groupUid, Set.copyOf(podUids));
    }
  }

  /** Forgets the groups not in {@code liveGroupUids} (see {@link GroupSync#forgetAllBut}). */
  public void forgetAllBut(Set<String> liveGroupUids) {
    unseen.keySet().retainAll(liveGroupUids);
  }

  /**
   * Whether {@code cached} shows the group's last rollout step: true when every pod it removed is
   * terminating or gone there (they are then forgotten), false while one still looks working.
   *
   * @param cached the group's pods as the cache holds them, terminating ones included
   */
  public boolean lastStepSeen(String groupUid, List<Pod> cached) {
    Set<String> removed = unseen.get(groupUid);
    if (removed == null) {
      return true;
    }
    boolean stillShownWorking =
        cached.stream()
            .anyMatch(p -> removed.contains(p.getMetadata().getUid()) && !Pods.isTerminating(p));
    if (stillShownWorking) {
      return false;
    }
    unseen.remove(groupUid, removed);
    return true;
  }
}
