package dev.sharedipc.operator.render;

import dev.sharedipc.api.v1alpha1.MemberSpec;
import dev.sharedipc.api.v1alpha1.SharedMemorySpec;
import dev.sharedipc.operator.assessment.Assessment;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Honest accounting of an instance's shared memory. The kernel charges tmpfs pages to the memory
 * cgroup of the container that first writes them, and a memory emptyDir can never hold more than
 * the pod's memory limit (the pod-level {@code spec.resources} limit where one is set, Kubernetes
 * 1.34+). So: with {@code accountTo}, that member's first container gets {@code size} added to its
 * memory request and limit, and so does its pod's pod-level memory request and limit when set;
 * without it, we check whether the members' limits can hold {@code size} and say plainly what
 * happens when they cannot.
 */
public final class MemoryAccounting {
  /**
   * What accountTo raised.
   *
   * @param container the container whose memory request (and limit, when it had one) grew by size
   * @param podLevel what of the pod's spec.resources grew by size ("limit and request", "limit",
   *     ...), or null
   */
  public record Accounted(String container, String podLevel) {}

  /**
   * Raises the accountTo member's first container by size, and the pod-level memory request and
   * limit of {@code pod} where set; returns what was raised, or null without accountTo.
   *
   * @param pod the pod that holds the accountTo member: the merged pod (SamePod) or that member's
   *     own pod (SameNode)
   */
  public Accounted applyAccountTo(
      PodSpec pod, List<MemberSpec> members, SharedMemorySpec sharedMemory) {
    if (sharedMemory == null || sharedMemory.getAccountTo() == null) {
      return null;
    }
    MemberSpec member =
        members.stream()
            .filter(m -> m.getName().equals(sharedMemory.getAccountTo()))
            .findFirst()
            .orElseThrow(
                () ->
                    new MergeConflict(
                        "sharedMemory.accountTo names "
                            + sharedMemory.getAccountTo()
                            + ", which is not a member"));
    String containerName = member.getTemplate().getSpec().getContainers().get(0).getName();
    Container container =
        pod.getContainers().stream()
            .filter(c -> c.getName().equals(containerName))
            .findFirst()
            .orElseThrow();
    long size = Quantities.bytes(sharedMemory.getSize());
    boolean containersRequestMemory =
        pod.getContainers().stream()
            .anyMatch(
                c ->
                    c.getResources() != null
                        && ((c.getResources().getRequests() != null
                                && c.getResources().getRequests().containsKey("memory"))
                            || (c.getResources().getLimits() != null
                                && c.getResources().getLimits().containsKey("memory"))));
    ResourceRequirements resources =
        container.getResources() == null ? new ResourceRequirements() : container.getResources();
    Map<String, Quantity> requests =
        new LinkedHashMap<>(resources.getRequests() == null ? Map.of() : resources.getRequests());
    Map<String, Quantity> limits =
        new LinkedHashMap<>(resources.getLimits() == null ? Map.of() : resources.getLimits());
    // A missing request means "as much as the limit" (or nothing at all): raise what is there,
    // and give a request where none existed so the scheduler reserves the shared memory.
    Quantity request = requests.getOrDefault("memory", limits.get("memory"));
    requests.put(
        "memory", request == null ? Quantities.ofBytes(size) : Quantities.add(request, size));
    if (limits.containsKey("memory")) {
      limits.put("memory", Quantities.add(limits.get("memory"), size));
    }
    resources.setRequests(requests);
    resources.setLimits(limits.isEmpty() ? null : limits);
    container.setResources(resources);
    return new Accounted(containerName, raisePodLevel(pod, size, containersRequestMemory));
  }

  /**
   * The pod-level memory limit caps every container together and must be at least each container's
   * limit, so it grows with the accountTo container; so does a pod-level request, which must cover
   * the containers' requests. Where only the limit is set, Kubernetes defaults the request from the
   * containers' requests (which now include size), or, when no container asked for memory, to the
   * limit: then the raised limit is written down as the request, as Kubernetes would have done.
   */
  private static String raisePodLevel(PodSpec pod, long size, boolean containersRequestMemory) {
    ResourceRequirements podLevel = pod.getResources();
    if (podLevel == null) {
      return null;
    }
    Map<String, Quantity> requests =
        new LinkedHashMap<>(podLevel.getRequests() == null ? Map.of() : podLevel.getRequests());
    Map<String, Quantity> limits =
        new LinkedHashMap<>(podLevel.getLimits() == null ? Map.of() : podLevel.getLimits());
    List<String> raised = new ArrayList<>();
    if (limits.containsKey("memory")) {
      limits.put("memory", Quantities.add(limits.get("memory"), size));
      raised.add("limit");
    }
    if (requests.containsKey("memory")) {
      requests.put("memory", Quantities.add(requests.get("memory"), size));
      raised.add("request");
    } else if (limits.containsKey("memory") && !containersRequestMemory) {
      requests.put("memory", limits.get("memory"));
      raised.add("request");
    }
    if (raised.isEmpty()) {
      return null;
    }
    podLevel.setRequests(requests.isEmpty() ? null : requests);
    podLevel.setLimits(limits.isEmpty() ? null : limits);
    return String.join(" and ", raised);
  }

  /**
   * Judges whether the members, after accounting, can really hold size bytes of shared memory.
   *
   * @param pod all the members' containers (one pod for SamePod, with its pod-level resources)
   * @param cappedByPodLimit true when the memory is an emptyDir of that one pod, which the kernel
   *     caps at the pod's memory limit (SamePod); false for a node directory (SameNode), where each
   *     member's own pod-level limit, read from its template, caps what that member may write
   */
  public Assessment judge(
      PodSpec pod,
      List<MemberSpec> members,
      SharedMemorySpec sharedMemory,
      Accounted accounted,
      boolean cappedByPodLimit) {
    long size = Quantities.bytes(sharedMemory.getSize());
    String sizeText = Quantities.human(size);
    if (accounted != null) {
      return new Assessment(
          true,
          "AccountedToMember",
          "sharedMemory.size "
              + sizeText
              + " is added to the memory request"
              + " and limit of member "
              + sharedMemory.getAccountTo()
              + " (container "
              + accounted.container()
              + ")"
              + (accounted.podLevel() == null
                  ? ""
                  : " and to the pod-level memory "
                      + accounted.podLevel()
                      + " (spec.resources) of its pod"));
    }
    Long podLevelLimit = cappedByPodLimit ? PodLevelResources.memoryLimit(pod) : null;
    if (podLevelLimit != null && podLevelLimit < size) {
      return new Assessment(
          false,
          "PodLimitBelowSharedMemory",
          "the pod-level memory limit (spec.resources.limits.memory) is "
              + Quantities.human(podLevelLimit)
              + ", less than sharedMemory.size "
              + sizeText
              + ": a memory emptyDir is capped"
              + " at the pod's memory limit, so writes past "
              + Quantities.human(podLevelLimit)
              + " fail with ENOSPC, and the"
              + " pod's containers are OOM-killed once together they pass it. Set sharedMemory.accountTo to the member that"
              + " writes the shared memory, or raise the pod-level limit");
    }
    long podLimit = 0;
    boolean everyContainerLimited = true;
    List<String> tooSmall = new ArrayList<>();
    for (Container container : pod.getContainers()) {
      Long limit = memoryLimit(container);
      if (limit == null) {
        everyContainerLimited = false;
        continue;
      }
      podLimit += limit;
      if (limit < size) {
        tooSmall.add(
            memberOf(container.getName(), members) + " (limit " + Quantities.human(limit) + ")");
      }
    }
    if (cappedByPodLimit && podLevelLimit == null && everyContainerLimited && podLimit < size) {
      return new Assessment(
          false,
          "PodLimitBelowSharedMemory",
          "the members' memory limits add up to "
              + Quantities.human(podLimit)
              + ", less than sharedMemory.size "
              + sizeText
              + ": a memory emptyDir is capped"
              + " at the pod's memory limit, so writes past "
              + Quantities.human(podLimit)
              + " fail with ENOSPC, and a"
              + " member is OOM-killed once its own writes pass its limit. Set sharedMemory.accountTo to the member that"
              + " writes the shared memory, or raise the limits");
    }
    if (!cappedByPodLimit) {
      // SameNode: each member is its own pod, and a pod-level limit caps what that pod may write.
      for (MemberSpec member : members) {
        Long limit = PodLevelResources.memoryLimit(member.getTemplate().getSpec());
        if (limit != null && limit < size) {
          tooSmall.add(member.getName() + " (pod-level limit " + Quantities.human(limit) + ")");
        }
      }
    }
    if (!tooSmall.isEmpty()) {
      return new Assessment(
          false,
          "MemberLimitBelowSharedMemory",
          "member "
              + String.join(", ", tooSmall)
              + " has a memory limit below sharedMemory.size "
              + sizeText
              + ": shared pages are charged to the container"
              + " that writes them first, so such a member is OOM-killed when it fills the shared memory. Set"
              + " sharedMemory.accountTo to the member that writes it, or raise the limits");
    }
    boolean anyPodLevelLimit =
        podLevelLimit != null
            || members.stream()
                .anyMatch(m -> PodLevelResources.memoryLimit(m.getTemplate().getSpec()) != null);
    if (!anyPodLevelLimit && pod.getContainers().stream().allMatch(c -> memoryLimit(c) == null)) {
      return new Assessment(
          true,
          "NoMemoryLimits",
          "no member has a memory limit: the shared memory (up to "
              + sizeText
              + ") is charged to whichever member writes it first, with no limit to hit");
    }
    return new Assessment(
        true,
        "LimitsHoldSharedMemory",
        "every member's memory limit can hold sharedMemory.size " + sizeText);
  }

  private static Long memoryLimit(Container container) {
    if (container.getResources() == null
        || container.getResources().getLimits() == null
        || !container.getResources().getLimits().containsKey("memory")) {
      return null;
    }
    return Quantities.cappedBytes(container.getResources().getLimits().get("memory"));
  }

  private static String memberOf(String containerName, List<MemberSpec> members) {
    for (MemberSpec member : members) {
      if (member.getTemplate().getSpec().getContainers().stream()
          .anyMatch(c -> c.getName().equals(containerName))) {
        return member.getName();
      }
    }
    return containerName;
  }
}
