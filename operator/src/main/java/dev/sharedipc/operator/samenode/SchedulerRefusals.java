package dev.sharedipc.operator.samenode;

import dev.sharedipc.api.Labels;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The bound on placing an instance again after the kube-scheduler refused a member on the node it
 * was pinned to. The placer judges what it can (resources, host ports, taints, affinities, pod
 * anti-affinity per hostname); what it cannot (topology spread, anti-affinity per zone, volume
 * topology, ...) only the scheduler sees, by leaving a pinned pod Pending with {@code
 * PodScheduled=False, reason Unschedulable}. Deleting and placing such an instance again is worth a
 * few tries (another node may suit the scheduler); forever it is a loop of evictions. So: after
 * {@link #MAX_REFUSED_PLACEMENTS} timed-out placements of one instance in which the scheduler
 * refused a member, the instance stays where it is and waits, with {@code Placed=False,
 * SchedulerRefused} and the scheduler's own message, until the group's spec changes (a new
 * generation starts the count again) or the scheduler binds it after all.
 *
 * <p>Kept in memory, like {@link AvoidList}: an operator restart allows at most that many more
 * tries.
 */
public final class SchedulerRefusals {
  public static final int MAX_REFUSED_PLACEMENTS = 3;
  public static final String REASON = "SchedulerRefused";

  private record Key(String groupUid, int index) {}

  private record Count(long generation, int refused) {}

  private final Map<Key, Count> counts = new ConcurrentHashMap<>();

  /**
   * "member m: message" for the first of an instance's pods that the scheduler refused (Pending,
   * PodScheduled=False with reason Unschedulable), or empty when none was refused.
   */
  public static Optional<String> of(List<Pod> pods) {
    for (Pod pod : pods) {
      if (pod.getStatus() == null || pod.getStatus().getConditions() == null) {
        continue;
      }
      for (PodCondition c : pod.getStatus().getConditions()) {
        if ("PodScheduled".equals(c.getType())
            && "False".equals(c.getStatus())
            && "Unschedulable".equals(c.getReason())) {
          Map<String, String> labels = pod.getMetadata().getLabels();
          String member =
              labels == null || labels.get(Labels.MEMBER) == null
                  ? pod.getMetadata().getName()
                  : labels.get(Labels.MEMBER);
          return Optional.of(
              "member " + member + ": " + (c.getMessage() == null ? "no message" : c.getMessage()));
        }
      }
    }
    return Optional.empty();
  }

  /**
   * Whether this instance has used up its placements refused by the scheduler under this
   * generation.
   */
  public boolean exhausted(String groupUid, long generation, int index) {
    Count c = counts.get(new Key(groupUid, index));
    return c != null && c.generation() == generation && c.refused() >= MAX_REFUSED_PLACEMENTS;
  }

  /**
   * Counts one more placement the scheduler refused; returns how many so far under this generation.
   */
  public int record(String groupUid, long generation, int index) {
    return counts
        .merge(
            new Key(groupUid, index),
            new Count(generation, 1),
            (old, one) ->
                old.generation() == generation ? new Count(generation, old.refused() + 1) : one)
        .refused();
  }

  /** The instance became whole (or is gone): its count starts again. */
  public void clear(String groupUid, int index) {
    counts.remove(new Key(groupUid, index));
  }

  /** Forgets the groups not in {@code liveGroupUids} (deleted ones). */
  public void forgetAllBut(java.util.Set<String> liveGroupUids) {
    counts.keySet().removeIf(k -> !liveGroupUids.contains(k.groupUid()));
  }
}
