package dev.sharedipc.operator.reconcile;

import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.operator.pods.Pods;
import dev.sharedipc.operator.render.DesiredState;
import dev.sharedipc.operator.sync.Blockers;
import dev.sharedipc.operator.sync.GroupEvents;
import dev.sharedipc.operator.sync.GroupSync;
import dev.sharedipc.operator.sync.OwnedPods;
import dev.sharedipc.operator.sync.RolloutGuard;
import dev.sharedipc.operator.sync.SyncResult;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The SamePod sync: makes a group's pods (one per instance) match its desired state: creates
 * missing pods, deletes pods of instances beyond {@code replicas}, and replaces pods whose template
 * hash is outdated, one ready instance at a time so that a rollout never takes more than one
 * working instance away. Only pods the group owns are ever deleted, each with a UID precondition.
 */
public class PodSync implements GroupSync {
  private final OwnedPods pods;
  private final GroupEvents events;

  /** No step until the cache shows the pod the last one evicted (see {@link RolloutGuard}). */
  private final RolloutGuard guard = new RolloutGuard();

  public PodSync(OwnedPods pods, GroupEvents events) {
    this.pods = pods;
    this.events = events;
  }

  @Override
  public void forgetAllBut(Set<String> liveGroupUids) {
    guard.forgetAllBut(liveGroupUids);
  }

  @Override
  public SyncResult sync(
      SharedIpcGroup group, DesiredState desired, List<Pod> owned, Cluster cluster) {
    Map<String, Pod> ownedByName =
        owned.stream()
            .collect(Collectors.toMap(p -> p.getMetadata().getName(), Function.identity()));
    Set<String> desiredNames =
        desired.pods().stream().map(p -> p.getMetadata().getName()).collect(Collectors.toSet());
    for (Pod pod : owned) {
      if (!desiredNames.contains(pod.getMetadata().getName()) && !Pods.isTerminating(pod)) {
        // Scaling down is the user's decision, as for a ReplicaSet: a plain delete, not an
        // eviction.
        delete(
            group,
            pod,
            "ScaledDown",
            "deleted pod "
                + pod.getMetadata().getName()
                + ": instance beyond replicas "
                + group.getSpec().getReplicas());
      }
    }
    Blockers blockers = pods.createMissing(group, desired.pods(), ownedByName, events);
    boolean refused =
        !rollOut(
            group,
            desired,
            owned.stream().filter(p -> desiredNames.contains(p.getMetadata().getName())).toList());
    return SyncResult.of(desired, owned, blockers, refused);
  }

  /**
   * One step of a rollout; {@code owned} holds only pods of instances that should exist. Returns
   * false when a disruption budget refused the eviction of the next pod.
   */
  private boolean rollOut(SharedIpcGroup group, DesiredState desired, List<Pod> owned) {
    String groupUid = group.getMetadata().getUid();
    if (!guard.lastStepSeen(groupUid, owned)) {
      return true; // the cache has not caught up with the last eviction: no step on a stale view
    }
    List<Pod> current = owned.stream().filter(p -> !Pods.isTerminating(p)).toList();
    List<Pod> outdated = current.stream().filter(desired::isOutdated).toList();
    if (outdated.isEmpty()) {
      return true;
    }
    // Pods that do not work anyway go at once; a working one only when every other instance works.
    for (Pod pod : outdated) {
      if (!Pods.isReady(pod)) {
        delete(
            group,
            pod,
            "Replacing",
            "replacing pod " + pod.getMetadata().getName() + " (not ready) with the new spec");
      }
    }
    boolean allOthersReady =
        owned.size() >= desired.pods().size()
            && owned.stream().allMatch(p -> !Pods.isTerminating(p) && Pods.isReady(p));
    if (allOthersReady) {
      Pod next = outdated.stream().filter(Pods::isReady).findFirst().orElse(null);
      // A rollout is the operator's own disruption: a user's PodDisruptionBudget on the pods may
      // hold it.
      if (next != null) {
        if (!pods.evict(group, next)) {
          return false;
        }
        guard.removed(groupUid, List.of(next.getMetadata().getUid()));
        events.normal(
            group,
            "Replacing",
            "rolling out the new spec: replacing pod "
                + next.getMetadata().getName()
                + "; the other pods stay up");
      }
    }
    return true;
  }

  private void delete(SharedIpcGroup group, Pod pod, String reason, String message) {
    if (pods.delete(group, pod, null)) {
      events.normal(group, reason, message);
    }
  }

  /** Kept for callers that ask whether a pod is the group's; {@link OwnedPods} decides. */
  public static boolean isOwnedBy(Pod pod, SharedIpcGroup group) {
    return OwnedPods.isOwnedBy(pod, group);
  }
}
