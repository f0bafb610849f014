package dev.sharedipc.operator.status;

import dev.sharedipc.api.Labels;
import dev.sharedipc.api.v1alpha1.InstanceStatus;
import dev.sharedipc.api.v1alpha1.IpcObjectUsage;
import dev.sharedipc.api.v1alpha1.SegmentsSpec;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcGroupStatus;
import dev.sharedipc.api.v1alpha1.UsageStatus;
import dev.sharedipc.operator.assessment.Assessment;
import dev.sharedipc.operator.pods.Pods;
import dev.sharedipc.operator.render.GroupRenderer;
import dev.sharedipc.operator.render.Quantities;
import dev.sharedipc.operator.usage.NodeUsage;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
    status.setReplicas(existingInstances(seen.pods()));
    status.setSelector(
        GroupRenderer.selectorLabels(group).entrySet().stream()
            .map(e -> e.getKey() + "=" + e.getValue())
            .collect(Collectors.joining(",")));
    status.setUsage(usage(seen));
    status.setEffectiveOrphanPolicy(seen.orphanPolicy());
    status.setAdmitted(seen.admitted());

    conditions.set(ConditionType.PolicyCompliant, compliance(seen));
    if (seen.desired() == null) {
      Assessment problem = seen.specProblem();
      conditions.set(ConditionType.Placed, false, problem.reason(), problem.message());
      conditions.set(
          ConditionType.MemoryAccounted,
          null,
          problem.reason(),
          "not judged: " + problem.message());
    } else {
      conditions.set(ConditionType.MemoryAccounted, seen.desired().memory());
      placed(conditions, seen, instances, replicas);
    }
    conditions.set(ConditionType.WithinQuota, withinQuota(seen, group));
    if (replicas == 0) {
      conditions.set(ConditionType.Ready, true, "ScaledToZero", "replicas is 0: nothing to run");
    } else if (ready == replicas) {
      conditions.set(
          ConditionType.Ready,
          true,
          "AllInstancesReady",
          ready + " of " + replicas + " instances ready");
    } else {
      String waiting =
          instances.stream()
              .filter(i -> !READY.equals(i.getPhase()))
              .limit(3)
              .map(i -> "instance " + i.getIndex() + ": " + i.getMessage())
              .collect(Collectors.joining("; "));
      Map.Entry<Integer, String> full =
          seen.usage().sharedMemoryFull().entrySet().stream().findFirst().orElse(null);
      if (full != null) {
        conditions.set(
            ConditionType.Ready,
            false,
            SHARED_MEMORY_FULL,
            ready
                + " of "
                + replicas
                + " instances ready; instance "
                + full.getKey()
                + ": "
                + full.getValue()
                + ". "
                + sharedMemoryFullAdvice(seen));
      } else {
        conditions.set(
            ConditionType.Ready,
            false,
            "InstancesNotReady",
            ready + " of " + replicas + " instances ready; " + waiting);
      }
    }
    status.setConditions(conditions.toList());
    status.setPhase(phase(seen, instances, ready, replicas));
    return status;
  }

  /**
   * Ready's reason while an instance is not ready and an agent reports one of its memory volumes at
   * least 90% full with a container restarting: files a crash left behind take the room the next
   * start needs.
   */
  public static final String SHARED_MEMORY_FULL = "SharedMemoryFull";

  /**
   * What the user can do, depending on whether the agent may reclaim the files (only under Delete).
   */
  private static String sharedMemoryFullAdvice(GroupObservation seen) {
    boolean delete =
        seen.orphanPolicy() != null
            && seen.orphanPolicy().getPolicy() == dev.sharedipc.api.v1alpha1.OrphanPolicy.Delete;
    return delete
        ? "Under orphan policy Delete the node agent removes the files no process has open or mapped while the container is in "
            + "back-off, without waiting for the grace period; if the volume stays full, files in use fill it: raise "
            + "spec.sharedMemory.size or make the members clean up"
        : "Under orphan policy Report the agent removes nothing: delete the leftover files (kubectl exec into a running member, "
            + "rm them), raise spec.sharedMemory.size, or set spec.segments.orphanPolicy: Delete so that the agent reclaims unused "
            + "files of a crash-looping pod at once";
  }

  /**
   * Instances with at least one pod, whatever their state or index: what /scale reports as
   * status.replicas (during a scale-down, instances above spec.replicas still count until they go).
   */
  private static int existingInstances(List<Pod> pods) {
    return (int)
        pods.stream()
            .map(
                p ->
                    p.getMetadata().getLabels() == null
                        ? null
                        : p.getMetadata().getLabels().get(Labels.INSTANCE))
            .filter(java.util.Objects::nonNull)
            .distinct()
            .count();
  }

  /**
   * A Pod Security refusal that names the shared-memory volume the operator adds, not one of the
   * user's.
   */
  private static boolean refusesOurSharedVolume(String message) {
    return message != null
        && message.contains("PodSecurity")
        && message.contains("\"" + GroupRenderer.SHARED_VOLUME + "\"");
  }

  /**
   * The policies' verdict, and when broken, what the operator does about it until the group
   * complies.
   */
  private static Assessment compliance(GroupObservation seen) {
    Assessment verdict = seen.policy();
    if (!Boolean.FALSE.equals(verdict.holds())) {
      return verdict;
    }
    return new Assessment(false, verdict.reason(), verdict.message() + ". " + consequence(seen));
  }

  private static String consequence(GroupObservation seen) {
    if (seen.frozen()) {
      return "Until the group complies, its running instances keep the spec of generation "
          + seen.admitted().getGeneration()
          + " (lost pods are re-created with it), and new instances and spec changes wait";
    }
    // Also a group that ran before status.admitted existed and broke a policy at upgrade: its pods
    // stay.
    return "No admitted spec is on record (status.admitted): until the group complies no pod is created or re-created,"
        + " and pods it runs are left running";
  }

  private static void placed(
      ConditionSet conditions,
      GroupObservation seen,
      List<InstanceStatus> instances,
      int replicas) {
    if (Boolean.FALSE.equals(seen.policy().holds())) {
      conditions.set(
          ConditionType.Placed,
          false,
          "PolicyViolation",
          consequence(seen) + ": " + seen.policy().message());
    } else if (!seen.blockers().rejected().isEmpty()) {
      Map.Entry<String, String> first = seen.blockers().rejected().entrySet().iterator().next();
      String refused =
          "the API server refused pod "
              + first.getKey()
              + ": "
              + first.getValue()
              + (seen.blockers().rejected().size() > 1
                  ? " (and " + (seen.blockers().rejected().size() - 1) + " more pods)"
                  : "");
      if (refusesOurSharedVolume(first.getValue())) {
        // The hostPath is the operator's (SameNode shared memory), not the user's: their template
        // is fine.
        conditions.set(
            ConditionType.Placed,
            false,
            "PodSecurityForbidsSharedVolume",
            refused
                + ". The hostPath volume "
                + GroupRenderer.SHARED_VOLUME
                + " is the one the operator adds to SameNode pods for their shared memory, and"
                + " the namespace's Pod Security level forbids hostPath volumes. Install the CSI driver shm.sharedipc.dev"
                + " (deploy/csi-driver.yaml and the agent DaemonSet's csi container) and set sharedMemory.medium: CSI (the"
                + " default once the driver is installed): inline csi volumes are allowed even under restricted. Or label the"
                + " namespace pod-security.kubernetes.io/enforce=privileged, or use placement: SamePod (an emptyDir, allowed by"
                + " every level); the operator tries again when the group changes");
      } else {
        conditions.set(
            ConditionType.Placed,
            false,
            "PodRejected",
            refused + ". Fix the member template; the operator tries again when the group changes");
      }
    } else if (!seen.blockers().taken().isEmpty()) {
      conditions.set(
          ConditionType.Placed,
          false,
          "PodNameTaken",
          "pod "
              + String.join(", ", seen.blockers().taken())
              + " exists but is not owned by this group; the operator never touches objects it does not own. Delete or"
              + " rename it, or rename the group");
    } else if (replicas == 0) {
      conditions.set(ConditionType.Placed, true, "ScaledToZero", "replicas is 0: nothing to place");
    } else {
      long scheduled = instances.stream().filter(i -> allBound(seen, i)).count();
      if (scheduled == replicas) {
        conditions.set(
            ConditionType.Placed,
            true,
            "AllInstancesScheduled",
            "every instance's pod is scheduled");
      } else if (!seen.waitingInstances().isEmpty()) {
        Map.Entry<Integer, String> first = seen.waitingInstances().entrySet().iterator().next();
        conditions.set(
            ConditionType.Placed,
            false,
            seen.waitingReason(),
            scheduled
                + " of "
                + replicas
                + " instances scheduled; instance "
                + first.getKey()
                + ": "
                + first.getValue());
      } else {
        conditions.set(
            ConditionType.Placed,
            false,
            "WaitingForScheduler",
            scheduled + " of " + replicas + " instances scheduled");
      }
    }
  }

  private static boolean allBound(GroupObservation seen, InstanceStatus instance) {
    return instance.getPods().stream()
        .allMatch(
            name ->
                seen.pods().stream()
                    .anyMatch(
                        p ->
                            name.equals(p.getMetadata().getName())
                                && p.getSpec().getNodeName() != null));
  }

  /** Worst first: the phase an instance shows when its pods disagree. */
  private static final List<String> SEVERITY = List.of(UPDATING, FAILED, PENDING, RUNNING, READY);

  private static InstanceStatus instance(GroupObservation seen, SharedIpcGroup group, int index) {
    InstanceStatus instance = new InstanceStatus();
    instance.setIndex(index);
    List<String> names = GroupRenderer.podNames(group, index);
    instance.setPods(names);
    instance.setSegments(seen.usage().segmentsByInstance().get(index));
    instance.setSharedMemoryUsedBytes(seen.usage().sharedMemoryUsedByInstance().get(index));
    instance.setIpcObjects(seen.usage().ipcObjectsByInstance().get(index));
    String waiting = seen.waitingInstances().get(index);
    String[] worst = {READY, null};
    for (String name : names) {
      Optional<Pod> found =
          seen.pods().stream().filter(p -> name.equals(p.getMetadata().getName())).findFirst();
      String[] podState =
          found
              .map(pod -> podState(seen, pod))
              .orElseGet(
                  () ->
                      new String[] {
                        PENDING,
                        seen.blockers().rejected().containsKey(name)
                            ? "pod "
                                + name
                                + " was refused by the API server: "
                                + seen.blockers().rejected().get(name)
                            : seen.blockers().taken().contains(name)
                                ? "pod " + name + " is taken by an object the group does not own"
                                : seen.desired() == null
                                    ? "not created: " + seen.specProblem().message()
                                    : Boolean.FALSE.equals(seen.policy().holds())
                                            && (!seen.frozen()
                                                || seen.desired().pod(name).isEmpty())
                                        ? "not created while the group breaks a SharedIpcPolicy: new instances and spec changes wait until it complies"
                                        : waiting != null
                                            ? waiting
                                            : "pod " + name + " is being created"
                      });
      found.map(GroupRenderer::pinnedNode).ifPresent(node -> instance.setNode(node));
      if (SEVERITY.indexOf(podState[0]) < SEVERITY.indexOf(worst[0])) {
        worst = podState;
      }
    }
    instance.setPhase(worst[0]);
    instance.setMessage(
        READY.equals(worst[0]) ? "all members ready on node " + instance.getNode() : worst[1]);
    return instance;
  }

  /** Phase and message of one pod of an instance. */
  private static String[] podState(GroupObservation seen, Pod pod) {
    String name = pod.getMetadata().getName();
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    String node = pod.getSpec().getNodeName();
    if (Pods.isTerminating(pod)) {
      return new String[] {UPDATING, "pod " + name + " is terminating"};
    } else if (seen.desired() != null && seen.desired().isOutdated(pod)) {
      return new String[] {UPDATING, "pod " + name + " runs an older spec and will be replaced"};
    } else if ("Failed".equals(phase) || "Succeeded".equals(phase)) {
      return new String[] {FAILED, "pod " + name + " is " + phase + reasonOf(pod)};
    } else if (Pods.isReady(pod)) {
      return new String[] {READY, "pod " + name + " is ready on node " + node};
    } else if (node == null) {
      return new String[] {
        PENDING, "pod " + name + " is not scheduled yet" + schedulingProblem(pod)
      };
    } else if ("Running".equals(phase)) {
      return new String[] {
        RUNNING, "pod " + name + " runs on " + node + "; containers not ready: " + notReady(pod)
      };
    }
    return new String[] {
      PENDING, "pod " + name + " is " + (phase == null ? "Pending" : phase) + " on node " + node
    };
  }

  private static Assessment withinQuota(GroupObservation seen, SharedIpcGroup group) {
    // A report that does not count (stale, or of a gone node) leaves the instances only it spoke
    // for unjudged.
    List<NodeUsage.IgnoredReport> unjudged =
        seen.usage().ignored().stream()
            .filter(
                r ->
                    seen.usage().segmentsByInstance().isEmpty()
                        || r.instances().stream()
                            .anyMatch(i -> !seen.usage().segmentsByInstance().containsKey(i)))
            .toList();
    if (seen.usage().segmentsByInstance().isEmpty() && unjudged.isEmpty()) {
      return Assessment.unknown(
          "NoAgentReport", "no node agent has reported this group's segments yet");
    }
    SegmentsSpec limits =
        group.getSpec().getSegments() == null ? new SegmentsSpec() : group.getSpec().getSegments();
    long maxSegments = Optional.ofNullable(limits.getMaxSegments()).orElse(256);
    // A maxBytes beyond what a long holds (stored before the CRD bounded it) limits nothing.
    Long maxBytes =
        limits.getMaxBytes() == null ? null : Quantities.cappedBytes(limits.getMaxBytes());
    List<String> over = new ArrayList<>();
    seen.usage()
        .segmentsByInstance()
        .forEach(
            (index, usage) -> {
              if (usage.getCount() != null && usage.getCount() > maxSegments) {
                over.add(
                    "instance "
                        + index
                        + " holds "
                        + usage.getCount()
                        + " segments (maxSegments "
                        + maxSegments
                        + ")");
              }
              if (maxBytes != null && usage.getBytes() != null && usage.getBytes() > maxBytes) {
                over.add(
                    "instance "
                        + index
                        + " holds "
                        + Quantities.human(usage.getBytes())
                        + " of segments (maxBytes "
                        + Quantities.human(maxBytes)
                        + ")");
              }
            });
    overIpcObjectQuotas(seen, limits, over);
    if (over.isEmpty() && !unjudged.isEmpty()) {
      return Assessment.unknown(
          unjudged.get(0).reason(),
          unjudged.stream().map(NodeUsage.IgnoredReport::message).collect(Collectors.joining("; "))
              + "; instances with no other report are not judged");
    }
    return over.isEmpty()
        ? new Assessment(true, "WithinQuota", "every instance is within spec.segments quotas")
        : new Assessment(false, "QuotaExceeded", String.join("; ", over));
  }

  /** spec.segments.maxSemaphoreSets and maxMessageQueues, each judged only when set. */
  private static void overIpcObjectQuotas(
      GroupObservation seen, SegmentsSpec limits, List<String> over) {
    Integer maxSets = limits.getMaxSemaphoreSets();
    Integer maxQueues = limits.getMaxMessageQueues();
    seen.usage()
        .ipcObjectsByInstance()
        .forEach(
            (index, usage) -> {
              if (maxSets != null
                  && usage.getSemaphoreSets() != null
                  && usage.getSemaphoreSets() > maxSets) {
                over.add(
                    "instance "
                        + index
                        + " holds "
                        + usage.getSemaphoreSets()
                        + " semaphore sets (maxSemaphoreSets "
                        + maxSets
                        + "; the agent never removes semaphores: find the process that leaks them with `sharedipc-agent scan --kind semaphores`)");
              }
              if (maxQueues != null && usage.allMessageQueues() > maxQueues) {
                over.add(
                    "instance "
                        + index
                        + " holds "
                        + usage.allMessageQueues()
                        + " message queues (maxMessageQueues "
                        + maxQueues
                        + "; see `sharedipc-agent scan --kind queues`)");
              }
            });
  }

  private static UsageStatus usage(GroupObservation seen) {
    if (seen.usage().isEmpty()) {
      return null;
    }
    UsageStatus usage = new UsageStatus();
    usage.setSegments(
        seen.usage().segmentsByInstance().values().stream().mapToLong(u -> nz(u.getCount())).sum());
    usage.setBytes(
        seen.usage().segmentsByInstance().values().stream().mapToLong(u -> nz(u.getBytes())).sum());
    usage.setRssBytes(
        seen.usage().segmentsByInstance().values().stream()
            .mapToLong(u -> nz(u.getRssBytes()))
            .sum());
    usage.setSharedMemoryUsedBytes(
        seen.usage().sharedMemoryUsedByInstance().values().stream()
            .mapToLong(Long::longValue)
            .sum());
    usage.setOrphansRemoved(seen.usage().orphansRemoved());
    usage.setIpcObjects(
        seen.usage().ipcObjectsByInstance().values().stream()
            .reduce(IpcObjectUsage::add)
            .orElse(null));
    return usage;
  }

  private static String phase(
      GroupObservation seen, List<InstanceStatus> instances, int ready, int replicas) {
    if (seen.desired() == null || Boolean.FALSE.equals(seen.policy().holds())) {
      return FAILED;
    }
    if (ready == replicas) {
      return RUNNING;
    }
    if (instances.stream().anyMatch(i -> FAILED.equals(i.getPhase()))) {
      return "Degraded";
    }
    if (instances.stream().noneMatch(i -> allBound(seen, i))
        && instances.stream().allMatch(i -> !RUNNING.equals(i.getPhase()))) {
      return PENDING;
    }
    return "Placing";
  }

  private static String schedulingProblem(Pod pod) {
    if (pod.getStatus() == null || pod.getStatus().getConditions() == null) {
      return "";
    }
    return pod.getStatus().getConditions().stream()
        .filter(
            c ->
                "PodScheduled".equals(c.getType())
                    && "False".equals(c.getStatus())
                    && c.getMessage() != null)
        .map(c -> ": " + c.getMessage())
        .findFirst()
        .orElse("");
  }

  private static String notReady(Pod pod) {
    if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
      return "(no container status yet)";
    }
    String names =
        pod.getStatus().getContainerStatuses().stream()
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
