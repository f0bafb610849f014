package dev.sharedipc.operator.render;

import dev.sharedipc.api.v1alpha1.MemberSpec;
import dev.sharedipc.operator.Verdict;
import dev.sharedipc.api.v1alpha1.SharedMemorySpec;
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
 * the pod's memory limit. So: with {@code accountTo}, that member's first container gets
 * {@code size} added to its memory request and limit; without it, we check whether the members'
 * limits can hold {@code size} and say plainly what happens when they cannot.
 */
public final class MemoryAccounting {
  /** Raises the accountTo member's first container by size; returns the container's name or null. */
  public String applyAccountTo(PodSpec pod, List<MemberSpec> members, SharedMemorySpec sharedMemory) {
    if (sharedMemory == null || sharedMemory.getAccountTo() == null) {
      return null;
    }
    MemberSpec member = members.stream()
        .filter(m -> m.getName().equals(sharedMemory.getAccountTo()))
        .findFirst()
        .orElseThrow(() -> new MergeConflict("sharedMemory.accountTo names " + sharedMemory.getAccountTo()
            + ", which is not a member"));
    String containerName = member.getTemplate().getSpec().getContainers().get(0).getName();
    Container container = pod.getContainers().stream()
        .filter(c -> c.getName().equals(containerName)).findFirst().orElseThrow();
    long size = Quantities.bytes(sharedMemory.getSize());
    ResourceRequirements resources = container.getResources() == null ? new ResourceRequirements() : container.getResources();
    Map<String, Quantity> requests = new LinkedHashMap<>(resources.getRequests() == null ? Map.of() : resources.getRequests());
    Map<String, Quantity> limits = new LinkedHashMap<>(resources.getLimits() == null ? Map.of() : resources.getLimits());
    // A missing request means "as much as the limit" (or nothing at all): raise what is there,
    // and give a request where none existed so the scheduler reserves the shared memory.
    Quantity request = requests.getOrDefault("memory", limits.get("memory"));
    requests.put("memory", request == null ? Quantities.ofBytes(size) : Quantities.add(request, size));
    if (limits.containsKey("memory")) {
      limits.put("memory", Quantities.add(limits.get("memory"), size));
    }
    resources.setRequests(requests);
    resources.setLimits(limits.isEmpty() ? null : limits);
    container.setResources(resources);
    return containerName;
  }

  /**
   * Judges whether the members, after accounting, can really hold size bytes of shared memory.
   *
   * @param pod all the members' containers (one pod for SamePod)
   * @param cappedByPodLimit true when the memory is an emptyDir of that one pod, which the kernel
   *     caps at the pod's memory limit (SamePod); false for a node directory (SameNode)
   */
  public Verdict judge(PodSpec pod, List<MemberSpec> members, SharedMemorySpec sharedMemory, String accountedContainer,
      boolean cappedByPodLimit) {
    long size = Quantities.bytes(sharedMemory.getSize());
    String sizeText = Quantities.human(size);
    if (accountedContainer != null) {
      return new Verdict(true, "AccountedToMember", "sharedMemory.size " + sizeText + " is added to the memory request"
          + " and limit of member " + sharedMemory.getAccountTo() + " (container " + accountedContainer + ")");
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
        tooSmall.add(memberOf(container.getName(), members) + " (limit " + Quantities.human(limit) + ")");
      }
    }
    if (cappedByPodLimit && everyContainerLimited && podLimit < size) {
      return new Verdict(false, "PodLimitBelowSharedMemory", "the members' memory limits add up to "
          + Quantities.human(podLimit) + ", less than sharedMemory.size " + sizeText + ": a memory emptyDir is capped"
          + " at the pod's memory limit, so writes past " + Quantities.human(podLimit) + " fail with ENOSPC, and a"
          + " member is OOM-killed once its own writes pass its limit. Set sharedMemory.accountTo to the member that"
          + " writes the shared memory, or raise the limits");
    }
    if (!tooSmall.isEmpty()) {
      return new Verdict(false, "MemberLimitBelowSharedMemory", "member " + String.join(", ", tooSmall)
          + " has a memory limit below sharedMemory.size " + sizeText + ": shared pages are charged to the container"
          + " that writes them first, so such a member is OOM-killed when it fills the shared memory. Set"
          + " sharedMemory.accountTo to the member that writes it, or raise the limits");
    }
    if (pod.getContainers().stream().allMatch(c -> memoryLimit(c) == null)) {
      return new Verdict(true, "NoMemoryLimits", "no member has a memory limit: the shared memory (up to " + sizeText
          + ") is charged to whichever member writes it first, with no limit to hit");
    }
    return new Verdict(true, "LimitsHoldSharedMemory", "every member's memory limit can hold sharedMemory.size " + sizeText);
  }

  private static Long memoryLimit(Container container) {
    if (container.getResources() == null || container.getResources().getLimits() == null
        || !container.getResources().getLimits().containsKey("memory")) {
      return null;
    }
    return Quantities.bytes(container.getResources().getLimits().get("memory"));
  }

  private static String memberOf(String containerName, List<MemberSpec> members) {
    for (MemberSpec member : members) {
      if (member.getTemplate().getSpec().getContainers().stream().anyMatch(c -> c.getName().equals(containerName))) {
        return member.getName();
      }
    }
    return containerName;
  }
}
