package dev.sharedipc.operator.status;

import dev.sharedipc.operator.Verdict;

import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
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
 * @param takenPodNames desired pod names held by objects the operator does not own
 * @param policy verdict of the SharedIpcPolicies that select the group
 * @param usage what the node agents reported about the group
 */
public record GroupObservation(
    SharedIpcGroup group,
    DesiredState desired,
    Verdict specProblem,
    List<Pod> pods,
    List<String> takenPodNames,
    Verdict policy,
    NodeUsage.GroupUsage usage) {}
