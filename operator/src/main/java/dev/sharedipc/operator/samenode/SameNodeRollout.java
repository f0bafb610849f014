package dev.sharedipc.operator.samenode;

import dev.sharedipc.api.Labels;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedMemoryMedium;
import dev.sharedipc.operator.pods.Pods;
import dev.sharedipc.operator.render.DesiredState;
import dev.sharedipc.operator.render.GroupRenderer;
import dev.sharedipc.operator.render.SharedMemoryMedia;
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
 * in the spec go at once; a member whose template changed is replaced member by member, instance by
 * instance: its outdated pods that do not work go at once, working ones only while every instance
 * is Ready, and then only those of one instance. The other members are never touched. Replacements
 * are re-created on the instance's node by the sync, as lost members are.
 *
 * <p>A change of shared-memory medium (an explicit {@code spec.sharedMemory.medium} other than the
 * one the pods use) is the exception: a member on the node's /dev/shm directory and one on the
 * driver's tmpfs would not share memory, so such an instance is replaced whole. All its pods go
 * together (a plain delete: a budget that let one through and held the other would split it): at
 * once when it does not work anyway (a member missing or not Ready), else one instance at a time,
 * once every other instance has all its members Ready; and the sync creates none of its new pods
 * while one of the old medium is left ({@link #heldForMediumChange}).
 *
 * <p>While the operator's cache does not show the working pods the last step removed ({@link
 * dev.sharedipc.operator.sync.RolloutGuard}), only the pods the spec removed go: no replacement, of
 * working pods or not, is judged on a view known to be stale.
 */
public final class SameNodeRollout {

  /**
   * A pod to remove and why.
   *
   * @param evict true when the pod works and a user's PodDisruptionBudget may hold its removal (a
   *     rollout step); false when the user's spec removed it, it works no more, or its instance
   *     changes medium whole
   * @param working true when the removal takes a working instance down (a rollout step, by eviction
   *     or by the whole-instance delete of a medium change): the sync takes no other step until its
   *     cache shows the pod go
   */
  public record Removal(Pod pod, String reason, String message, boolean evict, boolean working) {}

  /**
   * @param desired the pods of every placed instance, pinned to their nodes
   * @param live the group's pods that are not terminating and not evicted in this step
   * @param lastStepSeen false while the cache still shows a pod the last rollout step removed as
   *     working: then only the pods of instances beyond {@code replicas} and of removed members go
   */
  public List<Removal> step(
      SharedIpcGroup group, DesiredState desired, List<Pod> live, boolean lastStepSeen) {
    int replicas = GroupRenderer.replicas(group);
    Set<String> members =
        group.getSpec().getMembers().stream().map(m -> m.getName()).collect(Collectors.toSet());
    Set<String> desiredNames =
        desired.pods().stream().map(p -> p.getMetadata().getName()).collect(Collectors.toSet());
    List<Removal> removals = new ArrayList<>();
    List<Pod> current = new ArrayList<>();
    for (Pod pod : live) {
      String name = pod.getMetadata().getName();
      Integer index = SameNodePlanner.instanceOf(pod);
      String member =
          pod.getMetadata().getLabels() == null
              ? null
              : pod.getMetadata().getLabels().get(Labels.MEMBER);
      if (index == null || index >= replicas) {
        removals.add(
            new Removal(
                pod,
                "ScaledDown",
                "deleted pod " + name + ": instance beyond replicas " + replicas,
                false,
                false));
      } else if (!members.contains(member)) {
        removals.add(
            new Removal(
                pod,
                "MemberRemoved",
                "deleted pod "
                    + name
                    + ": member "
                    + member
                    + " is no longer in the spec; the other members of instance "
                    + index
                    + " keep running",
                false,
                false));
      } else if (desiredNames.contains(name)) {
        current.add(pod);
      }
    }
    if (!lastStepSeen) {
      // The view may show the pods just removed as Ready: a replacement judged on it could take a
      // second working instance away (as PodSync, even pods that seem not to work wait; the wait
      // lasts only until the cache catches up, and their update wakes the group).
      return removals;
    }
    SharedMemoryMedium wanted = medium(desired.pods());
    Map<Integer, List<Pod>> otherMedium = new TreeMap<>();
    current.stream()
        .filter(p -> SharedMemoryMedia.of(p).filter(m -> m != wanted).isPresent())
        .forEach(
            p ->
                otherMedium
                    .computeIfAbsent(SameNodePlanner.instanceOf(p), i -> new ArrayList<>())
                    .add(p));
    // Every pod of an instance that changes medium, whatever its own medium: the instance goes
    // whole.
    Map<Integer, List<Pod>> switching = new TreeMap<>();
    current.stream()
        .filter(p -> otherMedium.containsKey(SameNodePlanner.instanceOf(p)))
        .forEach(
            p ->
                switching
                    .computeIfAbsent(SameNodePlanner.instanceOf(p), i -> new ArrayList<>())
                    .add(p));
    current =
        current.stream()
            .filter(p -> !switching.containsKey(SameNodePlanner.instanceOf(p)))
            .toList();
    if (!switching.isEmpty()) {
      // One that does not work (a member missing or not Ready) goes at once; a working one only
      // while every other
      // instance is whole and Ready, and then only the first.
      boolean down = false;
      for (Map.Entry<Integer, List<Pod>> instance : switching.entrySet()) {
        boolean works =
            instance.getValue().size() >= members.size()
                && instance.getValue().stream().allMatch(Pods::isReady);
        if (!works) {
          replaceWhole(
              instance.getKey(), instance.getValue(), wanted, otherMedium, false, removals);
          down = true;
        }
      }
      Map<Integer, Long> readyPerInstance =
          live.stream()
              .filter(p -> SameNodePlanner.instanceOf(p) != null && Pods.isReady(p))
              .collect(Collectors.groupingBy(SameNodePlanner::instanceOf, Collectors.counting()));
      for (Map.Entry<Integer, List<Pod>> instance : switching.entrySet()) {
        int index = instance.getKey();
        boolean othersReady =
            java.util.stream.IntStream.range(0, replicas)
                .filter(i -> i != index)
                .allMatch(i -> readyPerInstance.getOrDefault(i, 0L) >= members.size());
        if (!down && othersReady && readyPerInstance.getOrDefault(index, 0L) >= members.size()) {
          replaceWhole(index, instance.getValue(), wanted, otherMedium, true, removals);
          break;
        }
      }
    }
    List<Pod> outdated = current.stream().filter(desired::isOutdated).toList();
    for (Pod pod : outdated) {
      if (!Pods.isReady(pod)) {
        removals.add(
            new Removal(
                pod,
                "Replacing",
                "replacing pod "
                    + pod.getMetadata().getName()
                    + " (not ready) with the new spec of member "
                    + pod.getMetadata().getLabels().get(Labels.MEMBER)
                    + " on node "
                    + GroupRenderer.pinnedNode(pod),
                false,
                false));
      }
    }
    // Every instance of the spec placed, every member present and Ready: only then may one go down.
    boolean allReady =
        current.size() == replicas * members.size() && current.stream().allMatch(Pods::isReady);
    if (allReady) {
      Map<Integer, List<Pod>> outdatedByInstance = new TreeMap<>();
      outdated.stream()
          .filter(Pods::isReady)
          .forEach(
              p ->
                  outdatedByInstance
                      .computeIfAbsent(SameNodePlanner.instanceOf(p), i -> new ArrayList<>())
                      .add(p));
      if (!outdatedByInstance.isEmpty()) {
        Map.Entry<Integer, List<Pod>> next = outdatedByInstance.entrySet().iterator().next();
        for (Pod pod : next.getValue()) {
          removals.add(
              new Removal(
                  pod,
                  "Replacing",
                  "rolling out the new spec of member "
                      + pod.getMetadata().getLabels().get(Labels.MEMBER)
                      + ": replacing pod "
                      + pod.getMetadata().getName()
                      + " on node "
                      + GroupRenderer.pinnedNode(pod)
                      + "; instance "
                      + next.getKey()
                      + "'s other members and the other instances stay up",
                  true,
                  true));
        }
      }
    }
    return removals;
  }

  private static void replaceWhole(
      int index,
      List<Pod> pods,
      SharedMemoryMedium wanted,
      Map<Integer, List<Pod>> otherMedium,
      boolean working,
      List<Removal> removals) {
    List<String> names = pods.stream().map(p -> p.getMetadata().getName()).toList();
    SharedMemoryMedium old = SharedMemoryMedia.of(otherMedium.get(index).get(0)).orElseThrow();
    for (Pod pod : pods) {
      removals.add(
          new Removal(
              pod,
              "MediumChanged",
              "replacing instance "
                  + index
                  + " whole (pods "
                  + names
                  + ") on node "
                  + GroupRenderer.pinnedNode(pod)
                  + ": the group's shared-memory medium is "
                  + wanted
                  + ", its pods use "
                  + old
                  + "; members on two media would not share memory",
              false,
              working));
    }
  }

  /**
   * The instances whose desired pods must not be created yet: a pod of another shared-memory medium
   * (running, terminating, or removed in this step) is still there, and a new member beside it
   * would not share its memory.
   *
   * @param owned every pod of the group the cache holds, terminating ones included
   */
  public static Set<Integer> heldForMediumChange(List<Pod> desired, List<Pod> owned) {
    SharedMemoryMedium wanted = medium(desired);
    return owned.stream()
        .filter(p -> SharedMemoryMedia.of(p).filter(m -> m != wanted).isPresent())
        .map(SameNodePlanner::instanceOf)
        .filter(java.util.Objects::nonNull)
        .collect(Collectors.toSet());
  }

  /** The medium the desired pods use (one for the whole group). */
  private static SharedMemoryMedium medium(List<Pod> desired) {
    return desired.stream()
        .map(SharedMemoryMedia::of)
        .flatMap(java.util.Optional::stream)
        .findFirst()
        .orElse(null);
  }
}
