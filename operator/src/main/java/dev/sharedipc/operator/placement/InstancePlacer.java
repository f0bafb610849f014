package dev.sharedipc.operator.placement;

import dev.sharedipc.api.Labels;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Taint;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Gang placement for SameNode groups: picks, for each instance, one node that can hold all of its
 * member pods at once, with the kube-scheduler's own filters (readiness, cordon, free cpu, memory,
 * pod slots and every other requested resource the node advertises such as {@code nvidia.com/gpu},
 * host ports, nodeSelector, required node affinity, taints and tolerations, required pod
 * anti-affinity per {@code kubernetes.io/hostname}) plus the shared memory that lives on the node
 * outside any pod. Among the nodes that fit it spreads instances (fewest of this group first), then
 * prefers the most free memory left, then the name, so the answer is deterministic. When nothing
 * fits it says, per node and closest first, what stands in the way; when the members exclude each
 * other (one host port twice, anti-affinity between them) it says so without looking at nodes.
 * Inter-pod constraints it cannot judge node by node ({@link PodAntiAffinity#unchecked}) are named
 * in the placement and left to the scheduler. A pure function: no client, no clock.
 */
public final class InstancePlacer {
  static final String NO_NODE_FITS = "NoNodeFits";
  static final String NO_NODES = "NoNodes";
  static final String MEMBERS_EXCLUDE_EACH_OTHER = "MembersExcludeEachOther";

  /**
   * Reason of a placed instance whose members have constraints only the scheduler judges ({@link
   * #unchecked}).
   */
  public static final String LEFT_TO_SCHEDULER = "LeftToScheduler";

  /** How many nodes a NoFit message names before "and N more". */
  static final int MAX_NODES_NAMED = 5;

  /**
   * Places instances one by one in index order, each on one node that can hold all its members;
   * instances placed earlier in the call count against their node's resources and spreading.
   *
   * @param demands instances still to place
   * @param nodes every node
   * @param instancesPerNode how many instances of this group already sit on each node (spreading);
   *     their pods' resources are expected to be in the nodes' requested amounts already
   * @param avoid nodes never to use in this call (for example where an instance recently timed out)
   * @return one placement per demand, in index order
   */
  public List<NodeChoice> place(
      List<InstanceDemand> demands,
      List<NodeInfo> nodes,
      Map<String, Integer> instancesPerNode,
      Set<String> avoid) {
    Map<String, Slot> slots = new LinkedHashMap<>();
    for (NodeInfo node : nodes) {
      slots.put(
          node.name(),
          new Slot(
              node, instancesPerNode == null ? 0 : instancesPerNode.getOrDefault(node.name(), 0)));
    }
    Set<String> avoided = avoid == null ? Set.of() : avoid;
    List<InstanceDemand> ordered = new ArrayList<>(demands);
    ordered.sort(Comparator.comparingInt(InstanceDemand::index));
    List<NodeChoice> result = new ArrayList<>();
    for (InstanceDemand demand : ordered) {
      result.add(placeOne(demand, slots, avoided));
    }
    return result;
  }

  private NodeChoice placeOne(InstanceDemand demand, Map<String, Slot> slots, Set<String> avoid) {
    Need need = Need.of(demand);
    String conflict = membersConflict(demand);
    if (conflict != null) {
      return new NodeChoice.NoFit(
          demand.index(),
          MEMBERS_EXCLUDE_EACH_OTHER,
          "instance "
              + demand.index()
              + " can never be placed: its members cannot share a node: "
              + conflict
              + ". Change the member templates");
    }
    if (slots.isEmpty()) {
      return new NodeChoice.NoFit(
          demand.index(),
          NO_NODES,
          "no node can hold instance "
              + demand.index()
              + " ("
              + need.describe()
              + "): the cluster has no nodes");
    }
    Slot best = null;
    List<Refusal> refusals = new ArrayList<>();
    for (Slot slot : slots.values()) {
      Refusal refusal = refusal(slot, demand, need, avoid);
      if (refusal != null) {
        refusals.add(refusal);
      } else if (best == null || better(slot, best, need)) {
        best = slot;
      }
    }
    if (best != null) {
      best.take(need, demand);
      return new NodeChoice.Placed(demand.index(), best.node.name(), unchecked(demand.members()));
    }
    refusals.sort(
        Comparator.comparingInt((Refusal r) -> r.kind.ordinal())
            .thenComparingDouble(r -> r.distance)
            .thenComparing(r -> r.node));
    StringBuilder message =
        new StringBuilder("no node can hold instance ")
            .append(demand.index())
            .append(" (")
            .append(need.describe())
            .append("): ");
    for (int i = 0; i < refusals.size() && i < MAX_NODES_NAMED; i++) {
      message.append(i == 0 ? "" : "; ").append(refusals.get(i).text);
    }
    if (refusals.size() > MAX_NODES_NAMED) {
      int more = refusals.size() - MAX_NODES_NAMED;
      message.append("; and ").append(more).append(more == 1 ? " more node" : " more nodes");
    }
    return new NodeChoice.NoFit(demand.index(), NO_NODE_FITS, message.toString());
  }

  /** Spread first, then the most free memory left after placing, then the name. */
  private static boolean better(Slot candidate, Slot best, Need need) {
    if (candidate.instances != best.instances) {
      return candidate.instances < best.instances;
    }
    long candidateFree = candidate.freeMemory() - need.memory;
    long bestFree = best.freeMemory() - need.memory;
    if (candidateFree != bestFree) {
      return candidateFree > bestFree;
    }
    return candidate.node.name().compareTo(best.node.name()) < 0;
  }

  /** Why the instance cannot go to this node, or null when it can. */
  private static Refusal refusal(Slot slot, InstanceDemand demand, Need need, Set<String> avoid) {
    NodeInfo node = slot.node;
    String name = node.name();
    if (avoid.contains(name)) {
      return new Refusal(
          Kind.AVOIDED,
          name,
          0,
          name + " is avoided for now (an instance recently failed to start there)");
    }
    if (!node.ready()) {
      return new Refusal(Kind.NOT_READY, name, 0, name + " is not Ready");
    }
    if (!node.schedulable()) {
      return new Refusal(Kind.CORDONED, name, 0, name + " is cordoned (unschedulable)");
    }
    Refusal constraint = constraintRefusal(node, demand);
    if (constraint != null) {
      return constraint;
    }
    Refusal pods = podsRefusal(slot, demand);
    if (pods != null) {
      return pods;
    }
    return resourceRefusal(slot, need);
  }

  /**
   * Host ports and required anti-affinity against the pods on the node, and those this call put
   * there.
   */
  private static Refusal podsRefusal(Slot slot, InstanceDemand demand) {
    String name = slot.node.name();
    List<Pod> members = demand.members();
    for (int m = 0; m < members.size(); m++) {
      Pod member = members.get(m);
      String memberName = "member " + memberName(member, m);
      List<HostPorts.HostPort> ports = HostPorts.of(member.getSpec());
      for (Pod present : slot.pods()) {
        HostPorts.HostPort taken = HostPorts.firstCollision(ports, HostPorts.of(present.getSpec()));
        if (taken != null) {
          return new Refusal(
              Kind.HOST_PORT,
              name,
              0,
              name
                  + " already has host port "
                  + taken
                  + " of "
                  + memberName
                  + " in use by pod "
                  + podName(present));
        }
      }
    }
    for (int m = 0; m < members.size(); m++) {
      Pod member = members.get(m);
      for (Pod present : slot.pods()) {
        String conflict =
            PodAntiAffinity.conflict(
                member, "member " + memberName(member, m), present, "pod " + podName(present));
        if (conflict != null) {
          return new Refusal(
              Kind.ANTI_AFFINITY,
              name,
              0,
              name + " runs pod " + podName(present) + ": " + conflict);
        }
      }
    }
    return null;
  }

  /**
   * Two members that can never share any node: one host port twice, or anti-affinity between them.
   */
  private static String membersConflict(InstanceDemand demand) {
    List<Pod> members = demand.members();
    for (int a = 0; a < members.size(); a++) {
      List<HostPorts.HostPort> own = HostPorts.of(members.get(a).getSpec());
      for (int i = 0; i < own.size(); i++) {
        HostPorts.HostPort twice =
            HostPorts.firstCollision(List.of(own.get(i)), own.subList(i + 1, own.size()));
        if (twice != null) {
          return "member " + memberName(members.get(a), a) + " uses host port " + twice + " twice";
        }
      }
      for (int b = a + 1; b < members.size(); b++) {
        String nameA = "member " + memberName(members.get(a), a);
        String nameB = "member " + memberName(members.get(b), b);
        HostPorts.HostPort both =
            HostPorts.firstCollision(own, HostPorts.of(members.get(b).getSpec()));
        if (both != null) {
          return nameA + " and " + nameB + " both use host port " + both;
        }
        String conflict = PodAntiAffinity.conflict(members.get(a), nameA, members.get(b), nameB);
        if (conflict != null) {
          return conflict;
        }
      }
    }
    return null;
  }

  /**
   * What the placer leaves to the scheduler for these member pods (inter-pod constraints it cannot
   * judge node by node), as a sentence naming each member, or null when it judges them all.
   */
  public static String unchecked(List<Pod> members) {
    List<String> notes = new ArrayList<>();
    for (int m = 0; m < members.size(); m++) {
      String note = PodAntiAffinity.unchecked(members.get(m));
      if (note != null) {
        notes.add("member " + memberName(members.get(m), m) + " has " + note);
      }
    }
    return notes.isEmpty()
        ? null
        : "not judged by the operator, left to the scheduler: " + String.join("; ", notes);
  }

  private static String podName(Pod pod) {
    return pod.getMetadata() == null
        ? "?"
        : pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName();
  }

  private static Refusal constraintRefusal(NodeInfo node, InstanceDemand demand) {
    // One taint, selector or affinity per node keeps the message short; name every member it
    // stops, since each of them needs the same fix.
    Map<Taint, List<String>> taints = new LinkedHashMap<>();
    Map<NodeConstraints.SelectorMismatch, List<String>> selectors = new LinkedHashMap<>();
    Map<String, List<String>> affinities = new LinkedHashMap<>();
    List<Pod> members = demand.members();
    for (int m = 0; m < members.size(); m++) {
      PodSpec pod = members.get(m).getSpec();
      String member = memberName(members.get(m), m);
      Taint taint = NodeConstraints.untoleratedTaint(pod, node);
      if (taint != null) {
        taints.computeIfAbsent(taint, t -> new ArrayList<>()).add(member);
      }
      NodeConstraints.SelectorMismatch selector = NodeConstraints.nodeSelectorMismatch(pod, node);
      if (selector != null) {
        selectors.computeIfAbsent(selector, s -> new ArrayList<>()).add(member);
      }
      String affinity = NodeConstraints.affinityMismatch(pod, node);
      if (affinity != null) {
        affinities.computeIfAbsent(affinity, s -> new ArrayList<>()).add(member);
      }
    }
    String name = node.name();
    if (!taints.isEmpty()) {
      var first = taints.entrySet().iterator().next();
      return new Refusal(
          Kind.TAINT,
          name,
          0,
          name
              + " has taint "
              + NodeConstraints.describe(first.getKey())
              + " not tolerated by "
              + members(first.getValue()));
    }
    if (!selectors.isEmpty()) {
      var first = selectors.entrySet().iterator().next();
      return new Refusal(
          Kind.SELECTOR,
          name,
          0,
          name
              + " does not match nodeSelector "
              + first.getKey().wantedText()
              + " of "
              + members(first.getValue())
              + " (it has "
              + first.getKey().actualText()
              + ")");
    }
    if (!affinities.isEmpty()) {
      var first = affinities.entrySet().iterator().next();
      return new Refusal(
          Kind.AFFINITY,
          name,
          0,
          name
              + " does not match the required node affinity of "
              + members(first.getValue())
              + ": "
              + first.getKey());
    }
    return null;
  }

  private static Refusal resourceRefusal(Slot slot, Need need) {
    // The scheduler checks a resource only when the pod requests some of it; pod slots always.
    List<Shortfall> shortfalls = new ArrayList<>();
    long cpuShort = need.cpu - slot.freeCpu();
    if (need.cpu > 0 && cpuShort > 0) {
      shortfalls.add(new Shortfall((double) cpuShort / need.cpu, "cpu " + Amounts.cpu(cpuShort)));
    }
    long memoryShort = need.memory - slot.freeMemory();
    if (need.memory > 0 && memoryShort > 0) {
      shortfalls.add(
          new Shortfall(
              (double) memoryShort / need.memory, "memory " + Amounts.memory(memoryShort)));
    }
    long podsShort = need.pods - slot.freePods();
    if (need.pods > 0 && podsShort > 0) {
      shortfalls.add(
          new Shortfall(
              (double) podsShort / need.pods,
              podsShort + (podsShort == 1 ? " pod slot" : " pod slots")));
    }
    // Any other resource (nvidia.com/gpu, hugepages-2Mi, ...): one the node does not advertise has
    // none free.
    need.other.forEach(
        (resource, wanted) -> {
          long missing = wanted - slot.freeOther(resource);
          if (missing > 0) {
            shortfalls.add(
                new Shortfall(
                    (double) missing / wanted,
                    Amounts.other(resource, missing)
                        + (slot.node.allocatableOther().containsKey(resource)
                            ? ""
                            : " (not advertised)")));
          }
        });
    if (shortfalls.isEmpty()) {
      return null;
    }
    shortfalls.sort(
        Comparator.comparingDouble((Shortfall s) -> -s.fraction).thenComparing(s -> s.text));
    List<String> texts = shortfalls.stream().map(s -> s.text).toList();
    return new Refusal(
        Kind.RESOURCES,
        slot.node.name(),
        shortfalls.get(0).fraction,
        slot.node.name() + " lacks " + joinAnd(texts));
  }

  /**
   * The member label the renderer sets; else the first container's name (the member's in what users
   * write).
   */
  private static String memberName(Pod pod, int position) {
    Map<String, String> labels = pod.getMetadata() == null ? null : pod.getMetadata().getLabels();
    if (labels != null && labels.get(Labels.MEMBER) != null) {
      return labels.get(Labels.MEMBER);
    }
    PodSpec spec = pod.getSpec();
    if (spec != null
        && spec.getContainers() != null
        && !spec.getContainers().isEmpty()
        && spec.getContainers().get(0).getName() != null) {
      return spec.getContainers().get(0).getName();
    }
    return "#" + (position + 1);
  }

  private static String members(List<String> names) {
    return (names.size() == 1 ? "member " : "members ") + joinAnd(names);
  }

  private static String joinAnd(List<String> items) {
    if (items.size() == 1) {
      return items.get(0);
    }
    return String.join(", ", items.subList(0, items.size() - 1))
        + " and "
        + items.get(items.size() - 1);
  }

  /** Kinds of refusal, closest first: freeing resources is the smallest step to a fit. */
  private enum Kind {
    RESOURCES,
    AVOIDED,
    HOST_PORT,
    ANTI_AFFINITY,
    TAINT,
    SELECTOR,
    AFFINITY,
    CORDONED,
    NOT_READY
  }

  /** distance orders refusals of one kind: the largest fraction of the need that is missing. */
  private record Refusal(Kind kind, String node, double distance, String text) {}

  private record Shortfall(double fraction, String text) {}

  /** What a whole instance asks of one node. */
  private record Need(long cpu, long memory, long pods, long extraMemory, Map<String, Long> other) {
    static Need of(InstanceDemand demand) {
      PodRequests.Resources total = PodRequests.Resources.NONE;
      for (Pod member : demand.members()) {
        total = total.plus(PodRequests.of(member.getSpec()));
      }
      return new Need(
          total.cpuMillis(),
          PodRequests.saturatedSum(total.memoryBytes(), demand.extraMemoryBytes()),
          demand.members().size(),
          demand.extraMemoryBytes(),
          total.other());
    }

    String describe() {
      StringBuilder b =
          new StringBuilder("needs ")
              .append(pods)
              .append(pods == 1 ? " pod" : " pods")
              .append(", cpu ")
              .append(Amounts.cpu(cpu))
              .append(", memory ")
              .append(Amounts.memory(memory));
      if (extraMemory > 0) {
        b.append(" of which ").append(Amounts.memory(extraMemory)).append(" shared memory");
      }
      other.forEach((resource, amount) -> b.append(", ").append(Amounts.other(resource, amount)));
      return b.toString();
    }
  }

  /** A node plus what this call has already put on it. */
  private static final class Slot {
    final NodeInfo node;
    int instances;
    long cpu;
    long memory;
    long pods;
    final Map<String, Long> other = new TreeMap<>();
    final List<Pod> placed = new ArrayList<>();

    Slot(NodeInfo node, int instances) {
      this.node = node;
      this.instances = instances;
    }

    long freeOther(String resource) {
      return node.freeOther(resource) - other.getOrDefault(resource, 0L);
    }

    /** The pods on the node and the members this call placed there. */
    List<Pod> pods() {
      if (placed.isEmpty()) {
        return node.pods();
      }
      List<Pod> all = new ArrayList<>(node.pods());
      all.addAll(placed);
      return all;
    }

    long freeCpu() {
      return node.freeCpuMillis() - cpu;
    }

    long freeMemory() {
      return node.freeMemoryBytes() - memory;
    }

    long freePods() {
      return node.freePods() - pods;
    }

    void take(Need need, InstanceDemand demand) {
      instances++;
      cpu += need.cpu;
      memory += need.memory;
      pods += need.pods;
      need.other.forEach((resource, amount) -> other.merge(resource, amount, Long::sum));
      placed.addAll(demand.members());
    }
  }
}
