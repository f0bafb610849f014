package dev.sharedipc.operator.samenode;

import dev.sharedipc.api.Durations;
import dev.sharedipc.api.Labels;
import dev.sharedipc.api.v1alpha1.InstanceStatus;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.operator.placement.InstanceDemand;
import dev.sharedipc.operator.placement.InstancePlacer;
import dev.sharedipc.operator.placement.NodeChoice;
import dev.sharedipc.operator.placement.NodeInfo;
import dev.sharedipc.operator.pods.Pods;
import dev.sharedipc.operator.render.GroupRenderer;
import dev.sharedipc.operator.sync.InstancePlacement;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Decides where each instance of a SameNode group lives, as a function of the group (with the
 * placements its status keeps), its pods, the nodes, every pod's requests, and the time.
 *
 * <p>An instance that was whole once (every member Running on its node) keeps its node: a member
 * lost or replaced is simply created again there by the sync, and the other members are left alone.
 * It moves, whole, only when its node is gone, or cordoned or not Ready while the instance is not
 * whole (a member could not come back there). An instance that never became whole within {@code
 * scheduling.timeout} of its placement is placed again whole, avoiding that node for a while.
 * Instances without a node go to the {@link InstancePlacer}. The record of each instance ({@link
 * InstancePlacement}) lives in the group's status, so a restarted operator decides the same.
 */
public final class SameNodePlanner {
  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(SameNodePlanner.class);

  /** How often to look again while an instance waits for a node that nothing may announce. */
  public static final Duration WAITING_RECHECK = Duration.ofSeconds(30);

  private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

  private final GroupRenderer renderer;
  private final InstancePlacer placer;
  private final AvoidList avoidList;
  private final SchedulerRefusals refusals = new SchedulerRefusals();

  public SameNodePlanner(GroupRenderer renderer, InstancePlacer placer, AvoidList avoidList) {
    this.renderer = renderer;
    this.placer = placer;
    this.avoidList = avoidList;
  }

  /** Forgets the nodes to avoid and the refusals of groups not in {@code liveGroupUids}. */
  public void forgetAllBut(Set<String> liveGroupUids) {
    avoidList.forgetAllBut(liveGroupUids);
    refusals.forgetAllBut(liveGroupUids);
  }

  public SameNodePlan plan(
      SharedIpcGroup group,
      List<Pod> owned,
      Collection<Node> nodes,
      Collection<Pod> allPods,
      Instant now) {
    String uid = group.getMetadata().getUid();
    int replicas = GroupRenderer.replicas(group);
    Set<String> members =
        group.getSpec().getMembers().stream().map(m -> m.getName()).collect(Collectors.toSet());
    Duration timeout = timeout(group);
    Map<String, Node> nodesByName = new HashMap<>();
    nodes.forEach(n -> nodesByName.put(n.getMetadata().getName(), n));
    Map<Integer, InstancePlacement> recorded = recorded(group);

    Map<Integer, List<Pod>> byInstance = new TreeMap<>();
    for (Pod pod : owned) {
      Integer index = instanceOf(pod);
      if (index != null && index < replicas && !Pods.isTerminating(pod)) {
        byInstance.computeIfAbsent(index, i -> new ArrayList<>()).add(pod);
      }
    }
    // An instance that was whole keeps its node even while every member is being replaced.
    recorded.forEach(
        (index, placement) -> {
          if (index < replicas && placement.wasWhole()) {
            byInstance.putIfAbsent(index, List.of());
          }
        });
    Map<Integer, String> nodeByInstance = new TreeMap<>();
    Map<Integer, InstancePlacement> placements = new TreeMap<>();
    List<SameNodePlan.Eviction> evictions = new ArrayList<>();
    Set<String> avoid = new HashSet<>(avoidList.nodes(uid, now));
    Duration recheck = null;
    SortedMap<Integer, String> waiting = new TreeMap<>();
    String waitingReason = null;
    long generation =
        group.getMetadata().getGeneration() == null ? 0 : group.getMetadata().getGeneration();

    for (Map.Entry<Integer, List<Pod>> entry : byInstance.entrySet()) {
      int index = entry.getKey();
      List<Pod> pods = entry.getValue();
      InstancePlacement record = recorded.get(index);
      String node =
          pods.stream()
              .map(GroupRenderer::pinnedNode)
              .filter(Objects::nonNull)
              .findFirst()
              .orElse(record == null ? null : record.node());
      if (record != null && !record.node().equals(node)) {
        record = null; // a record of an earlier node says nothing about this one
      }
      Set<String> running =
          pods.stream()
              .filter(p -> p.getStatus() != null && "Running".equals(p.getStatus().getPhase()))
              .map(p -> p.getMetadata().getLabels().get(Labels.MEMBER))
              .collect(Collectors.toSet());
      boolean whole = running.containsAll(members);
      // Without a record (pods made by an operator that kept none), placement dates from the oldest
      // pod; creationTimestamp is truncated to the second: one more second means never early.
      Instant placedAt =
          record != null
              ? record.placedAt()
              : pods.stream()
                  .map(SameNodePlanner::created)
                  .min(Instant::compareTo)
                  .orElse(now)
                  .plusSeconds(1);
      Instant firstWholeAt =
          record != null && record.wasWhole() ? record.firstWholeAt() : whole ? now : null;
      Instant brokenSince =
          whole || firstWholeAt == null
              ? null
              : record != null && record.brokenSince() != null ? record.brokenSince() : now;
      Node n = node == null ? null : nodesByName.get(node);
      if (node != null && n == null) {
        evict(
            evictions,
            pods,
            "NodeLost",
            "node " + node + " is gone: instance " + index + " is placed again as a whole");
        avoid.add(node);
        continue;
      }
      if (!whole && n != null && (!isReady(n) || isCordoned(n))) {
        evict(
            evictions,
            pods,
            "NodeUnavailable",
            "node "
                + node
                + " is "
                + (isCordoned(n) ? "cordoned" : "not Ready")
                + " and instance "
                + index
                + " is not whole there (members running: "
                + new TreeSet<>(running)
                + "): it is placed again as a whole");
        avoid.add(node);
        continue;
      }
      if (!whole && firstWholeAt == null) {
        Instant deadline = placedAt.plus(timeout);
        if (!now.isBefore(deadline)) {
          // The scheduler refusing a pinned member is worth a few placements elsewhere, not a loop
          // (SchedulerRefusals).
          Optional<String> refused = SchedulerRefusals.of(pods);
          if (refused.isPresent() && refusals.exhausted(uid, generation, index)) {
            waiting.put(
                index,
                "the scheduler refused instance "
                    + index
                    + " on node "
                    + node
                    + " in "
                    + SchedulerRefusals.MAX_REFUSED_PLACEMENTS
                    + " placements in a row ("
                    + refused.get()
                    + "); it stays there and is"
                    + " not placed again until the group's spec changes");
            waitingReason = SchedulerRefusals.REASON;
            nodeByInstance.put(index, node);
            placements.put(index, new InstancePlacement(node, placedAt, firstWholeAt, brokenSince));
            continue;
          }
          refused.ifPresent(r -> refusals.record(uid, generation, index));
          evict(
              evictions,
              pods,
              "PlacementTimedOut",
              "instance "
                  + index
                  + " never had all its members Running on node "
                  + node
                  + " within "
                  + Durations.format(timeout)
                  + " (scheduling.timeout) of its placement"
                  + refused.map(r -> "; the scheduler refused " + r).orElse("")
                  + ": it is placed again as a whole, avoiding "
                  + node
                  + " for "
                  + Durations.format(AvoidList.DEFAULT_TTL));
          if (node != null) {
            avoidList.avoid(uid, node, now);
            avoid.add(node);
          }
          continue;
        }
        recheck = min(recheck, Duration.between(now, deadline));
        leftToScheduler(waiting, index, node, InstancePlacer.unchecked(pods));
        waitingReason =
            waiting.containsKey(index) && waitingReason == null
                ? InstancePlacer.LEFT_TO_SCHEDULER
                : waitingReason;
      } else {
        refusals.clear(uid, index);
      }
      nodeByInstance.put(index, node);
      placements.put(index, new InstancePlacement(node, placedAt, firstWholeAt, brokenSince));
    }

    List<Integer> toPlace = new ArrayList<>();
    for (int index = 0; index < replicas; index++) {
      if (!nodeByInstance.containsKey(index)) {
        toPlace.add(index);
      }
    }
    if (!toPlace.isEmpty()) {
      Map<Integer, String> unplaced = new LinkedHashMap<>();
      toPlace.forEach(i -> unplaced.put(i, null));
      Map<Integer, List<Pod>> specs = new TreeMap<>();
      for (Pod pod : renderer.renderSameNode(group, unplaced).pods()) {
        specs.computeIfAbsent(instanceOf(pod), i -> new ArrayList<>()).add(pod);
      }
      List<InstanceDemand> demands = new ArrayList<>();
      // The shared directory lives in the node's tmpfs, outside every pod's request unless
      // accounted to a member.
      long extra =
          group.getSpec().getSharedMemory().getAccountTo() == null
              ? dev.sharedipc.operator.render.Quantities.bytes(
                  group.getSpec().getSharedMemory().getSize())
              : 0;
      specs.forEach((index, podSpecs) -> demands.add(new InstanceDemand(index, podSpecs, extra)));
      Map<String, Integer> instancesPerNode = new HashMap<>();
      nodeByInstance.values().forEach(node -> instancesPerNode.merge(node, 1, Integer::sum));
      for (NodeChoice placement :
          placer.place(demands, nodeInfos(nodes, allPods, evictions), instancesPerNode, avoid)) {
        if (placement instanceof NodeChoice.Placed placed) {
          nodeByInstance.put(placed.index(), placed.node());
          placements.put(placed.index(), new InstancePlacement(placed.node(), now, null, null));
          if (placed.unchecked() != null) {
            LOG.info(
                "group={}/{} instance={} node={} placed=true unchecked=\"{}\"",
                group.getMetadata().getNamespace(),
                group.getMetadata().getName(),
                placed.index(),
                placed.node(),
                placed.unchecked());
            leftToScheduler(waiting, placed.index(), placed.node(), placed.unchecked());
            waitingReason =
                waitingReason == null ? InstancePlacer.LEFT_TO_SCHEDULER : waitingReason;
          }
        } else if (placement instanceof NodeChoice.NoFit noFit) {
          waiting.put(noFit.index(), noFit.message());
          waitingReason = noFit.reason();
        }
      }
      if (!waiting.isEmpty()) {
        recheck = min(recheck, WAITING_RECHECK);
      }
    }
    return new SameNodePlan(
        nodeByInstance,
        evictions,
        waiting,
        waitingReason,
        Optional.ofNullable(recheck),
        placements);
  }

  /** The placements the group's status keeps, by instance. */
  private static Map<Integer, InstancePlacement> recorded(SharedIpcGroup group) {
    Map<Integer, InstancePlacement> recorded = new HashMap<>();
    if (group.getStatus() != null && group.getStatus().getInstances() != null) {
      for (InstanceStatus instance : group.getStatus().getInstances()) {
        if (instance.getIndex() != null) {
          InstancePlacement.of(instance).ifPresent(p -> recorded.put(instance.getIndex(), p));
        }
      }
    }
    return recorded;
  }

  /**
   * Nodes with what their pods request; our own pods pinned to a node but not bound yet count there
   * too.
   */
  private static List<NodeInfo> nodeInfos(
      Collection<Node> nodes, Collection<Pod> allPods, List<SameNodePlan.Eviction> evictions) {
    Set<String> evicted = new HashSet<>();
    evictions.forEach(e -> evicted.add(e.pod().getMetadata().getUid()));
    Map<String, List<Pod>> podsByNode = new HashMap<>();
    for (Pod pod : allPods) {
      String node =
          pod.getSpec().getNodeName() != null
              ? pod.getSpec().getNodeName()
              : GroupRenderer.pinnedNode(pod);
      if (node != null && !evicted.contains(pod.getMetadata().getUid())) {
        podsByNode.computeIfAbsent(node, n -> new ArrayList<>()).add(pod);
      }
    }
    List<NodeInfo> infos = new ArrayList<>();
    for (Node node : nodes) {
      List<Pod> pods = podsByNode.getOrDefault(node.getMetadata().getName(), List.of());
      NodeInfo info = NodeInfo.of(node, pods);
      // SameNode instances (of any group) hold node tmpfs that no pod request covers: count it as
      // requested.
      // SchedulingPodStore keeps the claim only on the operator's own pods, clamped to the group's
      // size.
      long shared =
          pods.stream()
              .map(
                  p ->
                      p.getMetadata().getAnnotations() == null
                          ? null
                          : p.getMetadata()
                              .getAnnotations()
                              .get(Labels.NODE_SHARED_BYTES_ANNOTATION))
              .filter(Objects::nonNull)
              .mapToLong(v -> Math.max(0, parseLong(v)))
              .sum();
      infos.add(info.withMoreMemoryRequested(shared));
    }
    return infos;
  }

  /**
   * Placed=False (LeftToScheduler) says what only the scheduler judges, until the instance's pods
   * are bound.
   */
  private static void leftToScheduler(
      SortedMap<Integer, String> waiting, int index, String node, String unchecked) {
    if (unchecked != null) {
      waiting.putIfAbsent(index, "pinned to node " + node + "; " + unchecked);
    }
  }

  private static void evict(
      List<SameNodePlan.Eviction> evictions, List<Pod> pods, String reason, String message) {
    pods.forEach(p -> evictions.add(new SameNodePlan.Eviction(p, reason, message)));
  }

  private static long parseLong(String value) {
    try {
      return Long.parseLong(value);
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  static Duration timeout(SharedIpcGroup group) {
    if (group.getSpec().getScheduling() == null
        || group.getSpec().getScheduling().getTimeout() == null) {
      return DEFAULT_TIMEOUT;
    }
    return Durations.parse(group.getSpec().getScheduling().getTimeout());
  }

  static Integer instanceOf(Pod pod) {
    String value =
        pod.getMetadata().getLabels() == null
            ? null
            : pod.getMetadata().getLabels().get(Labels.INSTANCE);
    try {
      return value == null ? null : Integer.valueOf(value);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static Instant created(Pod pod) {
    return pod.getMetadata().getCreationTimestamp() == null
        ? Instant.EPOCH
        : Instant.parse(pod.getMetadata().getCreationTimestamp());
  }

  public static boolean isReady(Node node) {
    return node.getStatus() != null
        && node.getStatus().getConditions() != null
        && node.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  static boolean isCordoned(Node node) {
    return node.getSpec() != null && Boolean.TRUE.equals(node.getSpec().getUnschedulable());
  }

  private static Duration min(Duration a, Duration b) {
    return a == null || b.compareTo(a) < 0 ? b : a;
  }
}
