package dev.sharedipc.operator.samenode;

import dev.sharedipc.operator.sync.InstancePlacement;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;

/**
 * What the SameNode planner decided for one group in one pass.
 *
 * @param nodeByInstance the node of every instance that has one (kept or newly placed)
 * @param evictions pods to delete now, each with the reason (timed out, node lost), whole instances
 *     at a time; a member lost or outdated is not an eviction: the sync re-creates or replaces it
 *     in place
 * @param waiting instances no node can take yet, with the placer's message
 * @param waitingReason the placer's reason for those (NoNodeFits, NoNodes)
 * @param recheckIn when to look again even if nothing changes (a timeout falls due), if ever
 * @param placements the record of every instance that has a node, to keep in status
 */
public record SameNodePlan(
    Map<Integer, String> nodeByInstance,
    List<Eviction> evictions,
    SortedMap<Integer, String> waiting,
    String waitingReason,
    Optional<Duration> recheckIn,
    Map<Integer, InstancePlacement> placements) {

  /** A pod to delete and why, as an Event reason and message. */
  public record Eviction(Pod pod, String reason, String message) {}
}
