package dev.sharedipc.operator.status;

import dev.sharedipc.operator.Verdict;

import dev.sharedipc.api.v1alpha1.InstanceStatus;
import dev.sharedipc.api.v1alpha1.SegmentsSpec;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcGroupStatus;
import dev.sharedipc.api.v1alpha1.UsageStatus;
import dev.sharedipc.operator.render.GroupRenderer;
import dev.sharedipc.operator.render.Quantities;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Computes a group's status from one {@link GroupObservation}: per-instance phase and message,
 * readyInstances, usage, phase, and the fixed set of conditions. A pure function.
 */
public final class StatusAggregator {
  public static final String READY = "Ready";
  public static final String RUNNING = "Running";
  public static final String PENDING = "Pending";
  public static final String UPDATING = "Updating";
  public static final String FAILED = "Failed";

  public SharedIpcGroupStatus aggregate(GroupObservation seen, Instant now) {
    SharedIpcGroup group = seen.group();
    long generation = Optional.ofNullable(group.getMetadata().getGeneration()).orElse(0L);
    List<io.fabric8.kubernetes.api.model.Condition> previous =
        group.getStatus() == null ? List.of() : group.getStatus().getConditions();
    ConditionSet conditions = new ConditionSet(previous, generation, now);
    int replicas = Optional.ofNullable(group.getSpec().getReplicas()).orElse(1);

    SharedIpcGroupStatus status = new SharedIpcGroupStatus();
    status.setObservedGeneration(generation);
    List<InstanceStatus> instances = new ArrayList<>();
    for (int index = 0; index < replicas; index++) {
      instances.add(instance(seen, group, index));
    }
    status.setInstances(instances);
    int ready = (int) instances.stream().filter(i -> READY.equals(i.getPhase())).count();
    status.setReadyInstances(ready);
    status.setUsage(usage(seen));

    conditions.set(ConditionType.PolicyCompliant, seen.policy());
    if (seen.desired() == null) {
      Verdict problem = seen.specProblem();
      conditions.set(ConditionType.Placed, false, problem.reason(), problem.message());
      conditions.set(ConditionType.MemoryAccounted, null, problem.reason(), "not judged: " + problem.message());
    } else {
      conditions.set(ConditionType.MemoryAccounted, seen.desired().memory());
      placed(conditions, seen, instances, replicas);
    }
    conditions.set(ConditionType.WithinQuota, withinQuota(seen, group));
    if (replicas == 0) {
      conditions.set(ConditionType.Ready, true, "ScaledToZero", "replicas is 0: nothing to run");
    } else if (ready == replicas) {
      conditions.set(ConditionType.Ready, true, "AllInstancesReady", ready + " of " + replicas + " instances ready");
    } else {
      String waiting = instances.stream()
          .filter(i -> !READY.equals(i.getPhase()))
          .limit(3)
          .map(i -> "instance " + i.getIndex() + ": " + i.getMessage())
          .collect(Collectors.joining("; "));
      conditions.set(ConditionType.Ready, false, "InstancesNotReady", ready + " of " + replicas + " instances ready; " + waiting);
    }
    status.setConditions(conditions.toList());
    status.setPhase(phase(seen, instances, ready, replicas));
    return status;
  }

  private static void placed(ConditionSet conditions, GroupObservation seen, List<InstanceStatus> instances, int replicas) {
    if (Boolean.FALSE.equals(seen.policy().holds())) {
      conditions.set(ConditionType.Placed, false, "PolicyViolation", "no pods are created while the group breaks a policy: "
          + seen.policy().message());
    } else if (!seen.takenPodNames().isEmpty()) {
      conditions.set(ConditionType.Placed, false, "PodNameTaken", "pod " + String.join(", ", seen.takenPodNames())
          + " exists but is not owned by this group; the operator never touches objects it does not own. Delete or"
          + " rename it, or rename the group");
    } else if (replicas == 0) {
      conditions.set(ConditionType.Placed, true, "ScaledToZero", "replicas is 0: nothing to place");
    } else {
      long scheduled = instances.stream().filter(i -> i.getNode() != null).count();
      if (scheduled == replicas) {
        conditions.set(ConditionType.Placed, true, "AllInstancesScheduled", "every instance's pod is scheduled");
      } else {
        conditions.set(ConditionType.Placed, false, "WaitingForScheduler",
            scheduled + " of " + replicas + " instances scheduled");
      }
    }
  }

  private static InstanceStatus instance(GroupObservation seen, SharedIpcGroup group, int index) {
    InstanceStatus instance = new InstanceStatus();
    instance.setIndex(index);
    String name = GroupRenderer.podName(group, index);
    instance.setPods(List.of(name));
    instance.setSegments(seen.usage().segmentsByInstance().get(index));
    instance.setSharedMemoryUsedBytes(seen.usage().sharedMemoryUsedByInstance().get(index));
    Optional<Pod> found = seen.pods().stream().filter(p -> name.equals(p.getMetadata().getName())).findFirst();
    if (found.isEmpty()) {
      instance.setPhase(PENDING);
      instance.setMessage(seen.takenPodNames().contains(name) ? "pod " + name + " is taken by an object the group does not own"
          : seen.desired() == null ? "not created: " + seen.specProblem().message() : "pod " + name + " is being created");
      return instance;
    }
    Pod pod = found.get();
    instance.setNode(pod.getSpec().getNodeName());
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    String hash = Pods.templateHash(pod);
    if (Pods.isTerminating(pod)) {
      instance.setPhase(UPDATING);
      instance.setMessage("pod " + name + " is terminating");
    } else if (seen.desired() != null && !Objects.equals(hash, seen.desired().templateHash())) {
      instance.setPhase(UPDATING);
      instance.setMessage("pod " + name + " runs an older spec and will be replaced");
    } else if ("Failed".equals(phase) || "Succeeded".equals(phase)) {
      instance.setPhase(FAILED);
      instance.setMessage("pod " + name + " is " + phase + reasonOf(pod));
    } else if (Pods.isReady(pod)) {
      instance.setPhase(READY);
      instance.setMessage("all members ready on node " + pod.getSpec().getNodeName());
    } else if (pod.getSpec().getNodeName() == null) {
      instance.setPhase(PENDING);
      instance.setMessage("pod " + name + " is not scheduled yet" + schedulingProblem(pod));
    } else if ("Running".equals(phase)) {
      instance.setPhase(RUNNING);
      instance.setMessage("pod " + name + " runs on " + pod.getSpec().getNodeName() + "; members not ready: " + notReady(pod));
    } else {
      instance.setPhase(PENDING);
      instance.setMessage("pod " + name + " is " + (phase == null ? "Pending" : phase) + " on node " + pod.getSpec().getNodeName());
    }
    return instance;
  }

  private static Verdict withinQuota(GroupObservation seen, SharedIpcGroup group) {
    if (seen.usage().segmentsByInstance().isEmpty()) {
      return Verdict.unknown("NoAgentReport", "no node agent has reported this group's segments yet");
    }
    SegmentsSpec limits = group.getSpec().getSegments() == null ? new SegmentsSpec() : group.getSpec().getSegments();
    long maxSegments = Optional.ofNullable(limits.getMaxSegments()).orElse(256);
    Long maxBytes = limits.getMaxBytes() == null ? null : Quantities.bytes(limits.getMaxBytes());
    List<String> over = new ArrayList<>();
    seen.usage().segmentsByInstance().forEach(
        (index, usage) -> {
          if (usage.getCount() != null && usage.getCount() > maxSegments) {
            over.add("instance " + index + " holds " + usage.getCount() + " segments (maxSegments " + maxSegments + ")");
          }
          if (maxBytes != null && usage.getBytes() != null && usage.getBytes() > maxBytes) {
            over.add("instance " + index + " holds " + Quantities.human(usage.getBytes()) + " of segments (maxBytes "
                + Quantities.human(maxBytes) + ")");
          }
        });
    return over.isEmpty()
        ? new Verdict(true, "WithinQuota", "every instance is within spec.segments quotas")
        : new Verdict(false, "QuotaExceeded", String.join("; ", over));
  }

  private static UsageStatus usage(GroupObservation seen) {
    if (seen.usage().isEmpty()) {
      return null;
    }
    UsageStatus usage = new UsageStatus();
    usage.setSegments(seen.usage().segmentsByInstance().values().stream().mapToLong(u -> nz(u.getCount())).sum());
    usage.setBytes(seen.usage().segmentsByInstance().values().stream().mapToLong(u -> nz(u.getBytes())).sum());
    usage.setRssBytes(seen.usage().segmentsByInstance().values().stream().mapToLong(u -> nz(u.getRssBytes())).sum());
    usage.setSharedMemoryUsedBytes(seen.usage().sharedMemoryUsedByInstance().values().stream().mapToLong(Long::longValue).sum());
    usage.setOrphansRemoved(seen.usage().orphansRemoved());
    return usage;
  }

  private static String phase(GroupObservation seen, List<InstanceStatus> instances, int ready, int replicas) {
    if (seen.desired() == null || Boolean.FALSE.equals(seen.policy().holds())) {
      return FAILED;
    }
    if (ready == replicas) {
      return RUNNING;
    }
    if (instances.stream().anyMatch(i -> FAILED.equals(i.getPhase()))) {
      return "Degraded";
    }
    if (instances.stream().allMatch(i -> i.getNode() == null)) {
      return PENDING;
    }
    return "Placing";
  }


  private static String schedulingProblem(Pod pod) {
    if (pod.getStatus() == null || pod.getStatus().getConditions() == null) {
      return "";
    }
    return pod.getStatus().getConditions().stream()
        .filter(c -> "PodScheduled".equals(c.getType()) && "False".equals(c.getStatus()) && c.getMessage() != null)
        .map(c -> ": " + c.getMessage())
        .findFirst()
        .orElse("");
  }

  private static String notReady(Pod pod) {
    if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
      return "(no container status yet)";
    }
    String names = pod.getStatus().getContainerStatuses().stream()
        .filter(c -> !Boolean.TRUE.equals(c.getReady()))
        .map(ContainerStatus::getName)
        .collect(Collectors.joining(", "));
    return names.isEmpty() ? "(none; the pod is not Ready yet)" : names;
  }

  private static String reasonOf(Pod pod) {
    return pod.getStatus().getReason() == null ? "" : " (" + pod.getStatus().getReason() + ")";
  }

  private static long nz(Long value) {
    return value == null ? 0 : value;
  }
}
