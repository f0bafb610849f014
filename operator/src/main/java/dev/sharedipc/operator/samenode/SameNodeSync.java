package dev.sharedipc.operator.samenode;

import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.operator.render.DesiredState;
import dev.sharedipc.operator.render.GroupRenderer;
import dev.sharedipc.operator.render.SharedMemoryMedia;
import dev.sharedipc.operator.sync.Blockers;
import dev.sharedipc.operator.sync.GroupEvents;
import dev.sharedipc.operator.sync.GroupSync;
import dev.sharedipc.operator.sync.OwnedPods;
import dev.sharedipc.operator.sync.RolloutGuard;
import dev.sharedipc.operator.sync.SyncResult;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SameNode sync, in four steps: plan ({@link SameNodePlanner}: where each instance lives, which
 * instances move whole), replace ({@link SameNodeRollout}: which member pods go this step), render
 * ({@link GroupRenderer#renderSameNode}: the member pods pinned to their instance's node), apply
 * (this class: evict, delete, create). A lost or replaced member comes back on its instance's node
 * beside members that keep running.
 */
public final class SameNodeSync implements GroupSync {
  private static final Logger LOG = LoggerFactory.getLogger(SameNodeSync.class);

  private final SameNodePlanner planner;
  private final SameNodeRollout rollout;
  private final GroupRenderer renderer;
  private final OwnedPods pods;
  private final GroupEvents events;
  private final Clock clock;

  /** No rollout step until the cache shows the working pods the last one removed. */
  private final RolloutGuard guard = new RolloutGuard();

  public SameNodeSync(
      SameNodePlanner planner,
      GroupRenderer renderer,
      OwnedPods pods,
      GroupEvents events,
      Clock clock) {
    this.planner = planner;
    this.rollout = new SameNodeRollout();
    this.renderer = renderer;
    this.pods = pods;
    this.events = events;
    this.clock = clock;
  }

  @Override
  public void forgetAllBut(java.util.Set<String> liveGroupUids) {
    guard.forgetAllBut(liveGroupUids);
    planner.forgetAllBut(liveGroupUids);
  }

  @Override
  public SyncResult sync(
      SharedIpcGroup group, DesiredState unplaced, List<Pod> owned, Cluster cluster) {
    SameNodePlan plan =
        planner.plan(group, owned, cluster.nodes().get(), cluster.allPods().get(), clock.instant());
    Set<String> gone = new HashSet<>(moveWhole(group, plan.evictions()));
    DesiredState desired =
        renderer.renderSameNode(group, plan.nodeByInstance(), SharedMemoryMedia.inUse(owned));
    List<Pod> live =
        owned.stream()
            .filter(
                p ->
                    !gone.contains(p.getMetadata().getUid())
                        && p.getMetadata().getDeletionTimestamp() == null)
            .toList();
    boolean refused = false;
    String groupUid = group.getMetadata().getUid();
    boolean lastStepSeen = guard.lastStepSeen(groupUid, owned);
    List<String> stepped = new ArrayList<>();
    for (SameNodeRollout.Removal removal : rollout.step(group, desired, live, lastStepSeen)) {
      String uid = removal.pod().getMetadata().getUid();
      if (remove(group, removal)) {
        gone.add(uid);
        if (removal.working()) {
          stepped.add(uid);
        }
      } else if (removal.evict()) {
        refused = true; // a disruption budget said no (or the pod went meanwhile): look again soon
      }
    }
    guard.removed(groupUid, stepped);
    // A name still held in the cache (terminating, or removed just now) is created when its delete
    // event comes back: the API server would refuse it until then.
    Map<String, Pod> held =
        owned.stream()
            .collect(Collectors.toMap(p -> p.getMetadata().getName(), Function.identity()));
    Set<Integer> switching = SameNodeRollout.heldForMediumChange(desired.pods(), owned);
    List<Pod> toCreate =
        desired.pods().stream()
            .filter(p -> !switching.contains(SameNodePlanner.instanceOf(p)))
            .toList();
    Blockers blockers = pods.createMissing(group, toCreate, held, events);
    List<Pod> standing =
        owned.stream().filter(p -> !gone.contains(p.getMetadata().getUid())).toList();
    Optional<Duration> recheck = plan.recheckIn();
    if (refused && recheck.map(d -> d.compareTo(SyncResult.EVICTION_RETRY) > 0).orElse(true)) {
      recheck = Optional.of(SyncResult.EVICTION_RETRY);
    }
    return new SyncResult(
        desired,
        standing,
        blockers,
        plan.waiting(),
        plan.waitingReason(),
        recheck,
        plan.placements());
  }

  /**
   * Deletes the pods of instances that move whole, one log line and one Event per instance; returns
   * their UIDs. A plain delete, not an eviction: these instances do not work (never whole, or a
   * member cannot come back because the node is gone, cordoned or not Ready), so a disruption
   * budget has nothing to protect, and holding them would only keep the instance down.
   */
  private List<String> moveWhole(SharedIpcGroup group, List<SameNodePlan.Eviction> evictions) {
    Map<String, List<SameNodePlan.Eviction>> byMessage =
        evictions.stream()
            .collect(
                Collectors.groupingBy(
                    e -> e.reason() + ": " + e.message(), LinkedHashMap::new, Collectors.toList()));
    List<String> gone = new ArrayList<>();
    byMessage
        .values()
        .forEach(
            same -> {
              SameNodePlan.Eviction first = same.get(0);
              LOG.info(
                  "group={}/{} decision=move-whole pods={} reason={} message=\"{}\"",
                  group.getMetadata().getNamespace(),
                  group.getMetadata().getName(),
                  same.stream().map(e -> e.pod().getMetadata().getName()).toList(),
                  first.reason(),
                  first.message());
              for (SameNodePlan.Eviction eviction : same) {
                Pod pod = eviction.pod();
                // A pod whose node is gone, or that never ran, has no kubelet that will confirm a
                // graceful
                // delete; it would block its successor's name for minutes. Remove it at once, as
                // the pod
                // garbage collector eventually would.
                boolean force =
                    "NodeLost".equals(first.reason())
                        || pod.getStatus() == null
                        || !"Running".equals(pod.getStatus().getPhase());
                pods.delete(group, pod, force ? 0L : null);
                gone.add(pod.getMetadata().getUid());
              }
              events.warning(group, first.reason(), first.message());
            });
    return gone;
  }

  private boolean remove(SharedIpcGroup group, SameNodeRollout.Removal removal) {
    Pod pod = removal.pod();
    boolean removed = removal.evict() ? pods.evict(group, pod) : pods.delete(group, pod, null);
    if (removed) {
      LOG.info(
          "group={}/{} decision=remove pod={} uid={} reason={} message=\"{}\"",
          group.getMetadata().getNamespace(),
          group.getMetadata().getName(),
          pod.getMetadata().getName(),
          pod.getMetadata().getUid(),
          removal.reason(),
          removal.message());
      events.normal(group, removal.reason(), removal.message());
    }
    return removed;
  }
}
