package dev.sharedipc.operator.samenode;

import dev.sharedipc.api.Labels;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.operator.render.DesiredState;
import dev.sharedipc.operator.render.GroupRenderer;
import dev.sharedipc.operator.pods.Pods;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Which member pods of a SameNode group to remove in one step, as a pure function of the desired
 * pods and the pods that stand: pods of instances beyond {@code replicas} and of members no longer
 * in the spec go at once; a member whose template changed is replaced member by member, instance
 * by instance: its outdated pods that do not work go at once, working ones only while every
 * instance is Ready, and then only those of one instance. The other members are never touched.
 * Replacements are re-created on the instance's node by the sync, as lost members are.
 */
public final class SameNodeRollout {

  /**
   * A pod to remove and why.
   *
   * @param evict true when the pod works and a user's PodDisruptionBudget may hold its removal
   *     (a rollout step); false when the user's spec removed it, or it works no more
   */
  public record Removal(Pod pod, String reason, String message, boolean evict) {}

  /**
   * @param desired the pods of every placed instance, pinned to their nodes
   * @param live the group's pods that are not terminating and not evicted in this step
   */
  public List<Removal> step(SharedIpcGroup group, DesiredState desired, List<Pod> live) {
    int replicas = GroupRenderer.replicas(group);
    Set<String> members = group.getSpec().getMembers().stream().map(m -> m.getName()).collect(Collectors.toSet());
    Set<String> desiredNames = desired.pods().stream().map(p -> p.getMetadata().getName()).collect(Collectors.toSet());
    List<Removal> removals = new ArrayList<>();
    List<Pod> current = new ArrayList<>();
    for (Pod pod : live) {
      String name = pod.getMetadata().getName();
      Integer index = SameNodePlanner.instanceOf(pod);
      String member = pod.getMetadata().getLabels() == null ? null : pod.getMetadata().getLabels().get(Labels.MEMBER);
      if (index == null || index >= replicas) {
        removals.add(new Removal(pod, "ScaledDown", "deleted pod " + name + ": instance beyond replicas " + replicas, false));
      } else if (!members.contains(member)) {
        removals.add(new Removal(pod, "MemberRemoved", "deleted pod " + name + ": member " + member
            + " is no longer in the spec; the other members of instance " + index + " keep running", false));
      } else if (desiredNames.contains(name)) {
        current.add(pod);
      }
    }
    List<Pod> outdated = current.stream().filter(desired::isOutdated).toList();
    for (Pod pod : outdated) {
      if (!Pods.isReady(pod)) {
        removals.add(new Removal(pod, "Replacing", "replacing pod " + pod.getMetadata().getName()
            + " (not ready) with the new spec of member " + pod.getMetadata().getLabels().get(Labels.MEMBER)
            + " on node " + GroupRenderer.pinnedNode(pod), false));
      }
    }
    // Every instance of the spec placed, every member present and Ready: only then may one go down.
    boolean allReady = current.size() == replicas * members.size() && current.stream().allMatch(Pods::isReady);
    if (allReady) {
      Map<Integer, List<Pod>> outdatedByInstance = new TreeMap<>();
      outdated.stream().filter(Pods::isReady)
          .forEach(p -> outdatedByInstance.computeIfAbsent(SameNodePlanner.instanceOf(p), i -> new ArrayList<>()).add(p));
      if (!outdatedByInstance.isEmpty()) {
        Map.Entry<Integer, List<Pod>> next = outdatedByInstance.entrySet().iterator().next();
        for (Pod pod : next.getValue()) {
          removals.add(new Removal(pod, "Replacing", "rolling out the new spec of member "
              + pod.getMetadata().getLabels().get(Labels.MEMBER) + ": replacing pod " + pod.getMetadata().getName()
              + " on node " + GroupRenderer.pinnedNode(pod) + "; instance " + next.getKey()
              + "'s other members and the other instances stay up", true));
        }
      }
    }
    return removals;
  }
}
