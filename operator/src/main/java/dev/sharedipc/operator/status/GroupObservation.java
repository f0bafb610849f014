package dev.sharedipc.operator.status;

import dev.sharedipc.api.v1alpha1.AdmittedSpec;
import dev.sharedipc.api.v1alpha1.EffectiveOrphanPolicy;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.operator.assessment.Assessment;
import dev.sharedipc.operator.render.DesiredState;
import dev.sharedipc.operator.sync.Blockers;
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
 * @param blockers desired pods held by objects the operator does not own, or refused by the API
 *     server
 * @param policy verdict of the SharedIpcPolicies that select the group
 * @param usage what the node agents reported about the group
 * @param waitingInstances SameNode instances no node could take yet, with why, in index order
 * @param waitingReason the Placed reason for those (e.g. NoNodeFits)
 * @param orphanPolicy the orphan policy the node agents are to obey; null: not resolved (Report)
 * @param admitted the spec admitted under policy that the pods follow; null when none was
 */
public record GroupObservation(
    SharedIpcGroup group,
    DesiredState desired,
    Assessment specProblem,
    List<Pod> pods,
    Blockers blockers,
    Assessment policy,
    NodeUsage.GroupUsage usage,
    java.util.SortedMap<Integer, String> waitingInstances,
    String waitingReason,
    EffectiveOrphanPolicy orphanPolicy,
    AdmittedSpec admitted) {

  /** An observation of a group that waits on no placement (SamePod, or SameNode fully placed). */
  public GroupObservation(
      SharedIpcGroup group,
      DesiredState desired,
      Assessment specProblem,
      List<Pod> pods,
      Blockers blockers,
      Assessment policy,
      NodeUsage.GroupUsage usage) {
    this(
        group,
        desired,
        specProblem,
        pods,
        blockers,
        policy,
        usage,
        new java.util.TreeMap<>(),
        null);
  }

  /** An observation of a group that may wait on placement, before governance is added. */
  public GroupObservation(
      SharedIpcGroup group,
      DesiredState desired,
      Assessment specProblem,
      List<Pod> pods,
      Blockers blockers,
      Assessment policy,
      NodeUsage.GroupUsage usage,
      java.util.SortedMap<Integer, String> waitingInstances,
      String waitingReason) {
    this(
        group,
        desired,
        specProblem,
        pods,
        blockers,
        policy,
        usage,
        waitingInstances,
        waitingReason,
        null,
        null);
  }

  /** This observation with the orphan policy to publish and the admitted spec the pods follow. */
  public GroupObservation governedBy(EffectiveOrphanPolicy orphanPolicy, AdmittedSpec admitted) {
    return new GroupObservation(
        group,
        desired,
        specProblem,
        pods,
        blockers,
        policy,
        usage,
        waitingInstances,
        waitingReason,
        orphanPolicy,
        admitted);
  }

  /**
   * Whether the group breaks policy but keeps running on an earlier admitted spec: its instances
   * heal, new instances and spec changes wait.
   */
  public boolean frozen() {
    return Boolean.FALSE.equals(policy.holds()) && admitted != null;
  }
}
