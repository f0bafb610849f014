package dev.sharedipc.operator.sync;

import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.operator.render.DesiredState;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;
import java.util.function.Supplier;

/**
 * Makes one group's pods match its spec, one step per reconcile. One implementation per placement
 * mode (SamePod: {@code reconcile.PodSync}; SameNode: {@code samenode.SameNodeSync}); the
 * reconciler picks one by {@code spec.placement} and knows nothing of how either works.
 */
public interface GroupSync {

  /**
   * The cluster beyond the group's own pods, read from the operator's caches only when a sync needs
   * it (SameNode placement weighs every node and every pod's requests).
   */
  record Cluster(Supplier<List<Node>> nodes, Supplier<List<Pod>> allPods) {}

  /**
   * Applies one step.
   *
   * @param desired the group rendered without placement ({@code GroupRenderer.render})
   * @param owned the pods the group controls, as cached
   */
  SyncResult sync(SharedIpcGroup group, DesiredState desired, List<Pod> owned, Cluster cluster);

  /**
   * Drops what the sync remembers of groups not in {@code liveGroupUids} (deleted ones: a deleted
   * group is never reconciled again, so nothing else would). The reconciler calls it now and then
   * with the UIDs of every group in its cache.
   */
  void forgetAllBut(java.util.Set<String> liveGroupUids);
}
