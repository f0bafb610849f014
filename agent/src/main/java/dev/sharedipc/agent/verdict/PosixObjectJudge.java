package dev.sharedipc.agent.verdict;

import dev.sharedipc.agent.scan.PosixObject.FileKind;
import dev.sharedipc.api.Durations;
import dev.sharedipc.api.v1alpha1.OrphanPolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.TreeSet;

/**
 * Whether a POSIX shared-memory object (a file in a pod's /dev/shm, a memory emptyDir or a SameNode
 * shared directory) may be removed, as a pure function of what was observed. The rules, in the
 * order they are checked; the first that applies decides, and only the last two remove:
 *
 * <ol>
 *   <li>in the host's /dev/shm: {@link PosixObjectVerdict#Host} (belongs to no pod);
 *   <li>not a regular file: {@link PosixObjectVerdict#NotRegular};
 *   <li>its volume not attributed to exactly one pod: {@link PosixObjectVerdict#Unattributed};
 *   <li>who has it open or mapped not known: {@link PosixObjectVerdict#UsersUnknown};
 *   <li>open or mapped by a process: {@link PosixObjectVerdict#InUse};
 *   <li>the group's effective policy is not Delete: {@link PosixObjectVerdict#KeptByPolicy};
 *   <li>the pod has a container in back-off (the crash-loop guard: a full /dev/shm left by a crash
 *       makes every restart crash again, so waiting out the grace period keeps the pod down):
 *       {@link PosixObjectVerdict#Remove} at once;
 *   <li>modified within the grace period: {@link PosixObjectVerdict#WithinGrace} (the modification
 *       time, not the status change time: a chmod or a new hard link is no use of the memory);
 *   <li>otherwise {@link PosixObjectVerdict#Remove}.
 * </ol>
 *
 * The crash-loop shortcut exists only under Delete: under Report the guard reports and changes
 * nothing.
 */
public final class PosixObjectJudge {
  private PosixObjectJudge() {}

  /** The file as inspected (never following a link) and where it lies. */
  public record Observed(
      String path, FileKind kind, boolean hostShm, int podsOfVolume, long mtimeEpochSecond) {}

  /**
   * @param object the file as inspected
   * @param users pids that have it open or mapped, or null when not known
   * @param policy the effective orphan policy of its pod's group ({@link Policy#UNKNOWN} when none)
   * @param podInBackOff whether a container of its pod is in back-off (CrashLoopBackOff) now
   */
  public static PosixObjectJudgement judge(
      Observed object, Set<Integer> users, Policy policy, boolean podInBackOff, Instant now) {
    if (object.hostShm()) {
      return new PosixObjectJudgement(
          PosixObjectVerdict.Host,
          "in the host's /dev/shm, which belongs to no pod; never removed");
    }
    if (object.kind() != FileKind.Regular) {
      return new PosixObjectJudgement(
          PosixObjectVerdict.NotRegular,
          "a " + object.kind() + ", not a regular file; never removed or followed");
    }
    if (object.podsOfVolume() != 1) {
      return new PosixObjectJudgement(
          PosixObjectVerdict.Unattributed,
          object.podsOfVolume() == 0
              ? "its volume belongs to no known pod; kept"
              : "its volume is shared by " + object.podsOfVolume() + " pods; kept");
    }
    if (users == null) {
      return new PosixObjectJudgement(
          PosixObjectVerdict.UsersUnknown,
          "whether a process has it open or mapped is not known; kept");
    }
    if (!users.isEmpty()) {
      return new PosixObjectJudgement(
          PosixObjectVerdict.InUse, "open or mapped by pid(s) " + new TreeSet<>(users));
    }
    if (policy.orphanPolicy() != OrphanPolicy.Delete) {
      return new PosixObjectJudgement(
          PosixObjectVerdict.KeptByPolicy,
          "no process has it open or mapped; kept by policy "
              + policy.orphanPolicy()
              + " ("
              + policy.source()
              + ")");
    }
    if (podInBackOff) {
      return new PosixObjectJudgement(
          PosixObjectVerdict.Remove,
          "no process has it open or mapped and its pod is in back-off: "
              + "the crash-loop guard removes it without waiting for the grace period (policy Delete, "
              + policy.source()
              + ")");
    }
    Duration grace = policy.grace().isNegative() ? Duration.ZERO : policy.grace();
    Instant modified = Instant.ofEpochSecond(object.mtimeEpochSecond());
    Duration idle = modified.isAfter(now) ? Duration.ZERO : Duration.between(modified, now);
    if (idle.compareTo(grace) <= 0) {
      return new PosixObjectJudgement(
          PosixObjectVerdict.WithinGrace,
          "no process has it open or mapped; not modified for "
              + Durations.format(idle)
              + ", grace period "
              + Durations.format(grace)
              + " ("
              + policy.source()
              + ")");
    }
    return new PosixObjectJudgement(
        PosixObjectVerdict.Remove,
        "no process has it open or mapped and not modified for "
            + Durations.format(idle)
            + ", past the grace period "
            + Durations.format(grace)
            + " (policy Delete, "
            + policy.source()
            + ")");
  }
}
