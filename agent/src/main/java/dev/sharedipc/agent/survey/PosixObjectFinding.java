package dev.sharedipc.agent.survey;

import dev.sharedipc.agent.attribution.PodInfo;
import dev.sharedipc.agent.scan.MemoryVolume;
import dev.sharedipc.agent.scan.PosixObject;
import dev.sharedipc.agent.verdict.Policy;
import dev.sharedipc.agent.verdict.PosixObjectJudge;
import dev.sharedipc.agent.verdict.PosixObjectJudgement;
import java.time.Instant;
import java.util.Set;

/**
 * One POSIX shared-memory object with everything one pass concluded about it.
 *
 * @param pod the pod its volume belongs to (only a UID when the API server did not say more), or
 *     null
 * @param podsOfVolume how many pods the volume is attributed to (only exactly one allows removal)
 * @param openPids pids that have it open, or null when not known (then {@code mappedPids} is null
 *     too)
 * @param userPods the pod UIDs of those pids, where they are in a pod
 * @param guard whether the crash-loop guard is on for its volume (full, and the pod in back-off)
 */
public record PosixObjectFinding(
    PosixObject object,
    PodInfo pod,
    int podsOfVolume,
    Set<Integer> openPids,
    Set<Integer> mappedPids,
    Set<String> userPods,
    Policy policy,
    boolean guard,
    PosixObjectJudgement judgement) {

  /** Whether any process has it open or mapped; null when not known. */
  public Boolean inUse() {
    return openPids == null ? null : !openPids.isEmpty() || !mappedPids.isEmpty();
  }

  /** The pod as "namespace/name" when known, else its UID, else "-". */
  public String podLabel() {
    if (pod == null) {
      return "-";
    }
    return pod.name() != null ? pod.namespace() + "/" + pod.name() : pod.uid();
  }

  /**
   * The verdict on this object with these users (null: not known), under the pod, policy and guard
   * found in the pass: the pass judges with what it read, the reaper again with the users it reads
   * just before acting.
   */
  public PosixObjectJudgement judge(Set<Integer> users, Instant now) {
    boolean host = object.volume().kind() == MemoryVolume.Kind.HostShm;
    return PosixObjectJudge.judge(
        new PosixObjectJudge.Observed(
            object.path(), object.kind(), host, podsOfVolume, object.mtimeEpochSecond()),
        users,
        policy,
        guard,
        now);
  }

  /** The decision as one key=value log line. */
  public String audit(String action, String detail) {
    return "posix object path=\""
        + object.path()
        + "\" kind="
        + object.kind()
        + " allocated="
        + object.allocatedBytes()
        + " podUid="
        + (pod == null ? "-" : pod.uid())
        + " pod="
        + podLabel()
        + " group="
        + (pod == null || pod.groupKey() == null ? "-" : pod.groupKey())
        + " open="
        + openPids
        + " mapped="
        + mappedPids
        + " policy="
        + policy.orphanPolicy()
        + " guard="
        + guard
        + " verdict="
        + judgement.verdict()
        + " action="
        + action
        + " reason=\""
        + (judgement.reason() + (detail == null ? "" : "; " + detail)).replace('"', '\'')
        + "\"";
  }
}
