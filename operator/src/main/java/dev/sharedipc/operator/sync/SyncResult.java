package dev.sharedipc.operator.sync;

import dev.sharedipc.api.v1alpha1.InstanceStatus;
import dev.sharedipc.api.v1alpha1.SharedIpcGroupStatus;
import dev.sharedipc.operator.render.DesiredState;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What one sync step did and saw, for status.
 *
 * @param desired the pods the group should run now (SameNode: pinned to their instances' nodes)
 * @param pods the owned pods still standing after this step (those it deleted left out)
 * @param blockers desired pods held by others or refused by the API server
 * @param waiting SameNode instances no node could take yet, with why, by index
 * @param waitingReason the Placed reason for those (NoNodeFits, NoNodes)
 * @param recheckIn when to look again even if no event comes (a timeout falls due), if ever
 * @param placements SameNode: where each instance lives and since when, to keep in status so that
 *     the verdicts survive an operator restart; empty for SamePod
 */
public record SyncResult(
    DesiredState desired,
    List<Pod> pods,
    Blockers blockers,
    SortedMap<Integer, String> waiting,
    String waitingReason,
    Optional<Duration> recheckIn,
    Map<Integer, InstancePlacement> placements) {

  /**
   * How soon to try again an eviction a PodDisruptionBudget refused: no event announces that it
   * would pass.
   */
  public static final Duration EVICTION_RETRY = Duration.ofSeconds(10);

  /**
   * A step that waits on no placement (SamePod); {@code evictionRefused} asks for another look
   * soon.
   */
  public static SyncResult of(
      DesiredState desired, List<Pod> pods, Blockers blockers, boolean evictionRefused) {
    return new SyncResult(
        desired,
        pods,
        blockers,
        new TreeMap<>(),
        null,
        evictionRefused ? Optional.of(EVICTION_RETRY) : Optional.empty(),
        Map.of());
  }

  /**
   * Writes the instances' placements into a freshly aggregated status. When no sync ran this pass
   * ({@code synced} null, e.g. under a policy violation), every instance keeps what the previous
   * status said, so that a pause never erases the history the verdicts rest on.
   */
  public static void recordPlacements(
      SyncResult synced, SharedIpcGroupStatus previous, SharedIpcGroupStatus status) {
    for (InstanceStatus instance : status.getInstances()) {
      Optional<InstancePlacement> placement;
      if (synced != null) {
        placement = Optional.ofNullable(synced.placements().get(instance.getIndex()));
      } else if (previous != null && previous.getInstances() != null) {
        placement =
            previous.getInstances().stream()
                .filter(i -> instance.getIndex().equals(i.getIndex()))
                .findFirst()
                .flatMap(InstancePlacement::of);
      } else {
        placement = Optional.empty();
      }
      placement.ifPresent(p -> p.writeTo(instance));
    }
  }
}
