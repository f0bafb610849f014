package dev.sharedipc.operator.status;

import dev.sharedipc.operator.Verdict;

import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.operator.sync.Blockers;
import dev.sharedipc.operator.render.DesiredState;
import dev.sharedipc.operator.usage.NodeUsage;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;

/**
 * What the reconciler saw and decided in one pass, the input of {@link StatusAggregator}.
 *
 * @param group the group as read
 * @param desired what it should run; null when the spec cannot be rendered
 * @param specProblem why it cannot (reason, message); null when it can
 * @param pods the pods the group owns
 * @param blockers desired pods held by objects the operator does not own, or refused by the API server
 * @param policy verdict of the SharedIpcPolicies that select the group
 * @param usage what the node agents reported about the group
 * @param waitingInstances SameNode instances no node could take yet, with why, in index order
 * @param waitingReason the Placed reason for those (e.g. NoNodeFits)
 */
public record GroupObservation(
    SharedIpcGroup group,
    DesiredState desired,
    Verdict specProblem,
    List<Pod> pods,
    Blockers blockers,
    Verdict policy,
    NodeUsage.GroupUsage usage,
    java.util.SortedMap<Integer, String> waitingInstances,
    String waitingReason) {

  /** An observation of a group that waits on no placement (SamePod, or SameNode fully placed). */
  public GroupObservation(SharedIpcGroup group, DesiredState desired, Verdict specProblem, List<Pod> pods,
      Blockers blockers, Verdict policy, NodeUsage.GroupUsage usage) {
    this(group, desired, specProblem, pods, blockers, policy, usage, new java.util.TreeMap<>(), null);
  }
}
