package dev.sharedipc.agent.verdict;

import dev.sharedipc.agent.attribution.NodePod;
import dev.sharedipc.agent.scan.SharedDirName;
import dev.sharedipc.api.Durations;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Whether a SameNode shared directory may be removed, as a pure function of what was observed (the
 * directory, the pods on the node, the processes using it, when its instance was first seen gone,
 * and now). The rules, in the order they are checked; the first that applies decides, and only the
 * last removes:
 *
 * <ol>
 *   <li>not plainly a directory under the shared root: {@link SharedDirVerdict#Unsafe};
 *   <li>name does not parse: {@link SharedDirVerdict#Unattributed};
 *   <li>pods on the node not known (not connected, informer not synced): {@link
 *       SharedDirVerdict#ClusterUnknown};
 *   <li>a pod of the instance, in any phase but Succeeded or Failed: {@link
 *       SharedDirVerdict#InstancePresent};
 *   <li>no pod, but not for longer than the grace period: {@link SharedDirVerdict#WithinGrace};
 *   <li>processes using it not known: {@link SharedDirVerdict#UsersUnknown};
 *   <li>a process has a file under it open or mapped: {@link SharedDirVerdict#InUse};
 *   <li>otherwise {@link SharedDirVerdict#Remove}.
 * </ol>
 *
 * Users come after the grace check so that the caller can judge first without them and scan /proc
 * only for directories that reach {@link SharedDirVerdict#UsersUnknown}.
 */
public final class SharedDirJudge {
  /** When the group's own orphan grace period is not known. */
  public static final Duration DEFAULT_GRACE = Duration.ofMinutes(10);

  private SharedDirJudge() {}

  /**
   * @param dir the directory as inspected
   * @param pods pods bound to this node, or null when they cannot be vouched for
   * @param absentSince when no pod of the instance was first seen (continuously since), or null
   * @param grace the group's orphan grace period, or null when unknown ({@link #DEFAULT_GRACE})
   * @param users pids with a file under it open or mapped, or null when not (or not successfully)
   *     looked at
   */
  public static SharedDirJudgement judge(
      Dir dir,
      List<NodePod> pods,
      Instant absentSince,
      Duration grace,
      Set<Integer> users,
      Instant now) {
    if (dir.unsafe() != null) {
      return new SharedDirJudgement(SharedDirVerdict.Unsafe, dir.unsafe() + "; kept");
    }
    if (dir.owner().isEmpty()) {
      return new SharedDirJudgement(
          SharedDirVerdict.Unattributed,
          "name does not parse as <namespace>_<group>_<group uid>_<index> (or <namespace>_<group>_<index>); never removed");
    }
    SharedDirName owner = dir.owner().get();
    if (pods == null) {
      return new SharedDirJudgement(
          SharedDirVerdict.ClusterUnknown,
          "pods on this node are not known (API server not connected or pod informer not synced); kept");
    }
    List<String> present =
        pods.stream().filter(p -> p.usesInstance(owner)).map(NodePod::name).sorted().toList();
    if (!present.isEmpty()) {
      return new SharedDirJudgement(
          SharedDirVerdict.InstancePresent,
          "instance has pod(s) on this node: " + String.join(", ", present));
    }
    Duration g = grace == null ? DEFAULT_GRACE : grace.isNegative() ? Duration.ZERO : grace;
    String graceText =
        "grace period "
            + Durations.format(g)
            + (grace == null ? " (default)" : " (group " + owner.groupKey() + ")");
    Duration gone =
        absentSince == null || absentSince.isAfter(now)
            ? Duration.ZERO
            : Duration.between(absentSince, now);
    if (absentSince == null || gone.compareTo(g) <= 0) {
      return new SharedDirJudgement(
          SharedDirVerdict.WithinGrace,
          "no pod of the instance for " + Durations.format(gone) + ", " + graceText);
    }
    if (users == null) {
      return new SharedDirJudgement(
          SharedDirVerdict.UsersUnknown,
          "no pod of the instance for "
              + Durations.format(gone)
              + ", but whether a process uses it is not known; kept");
    }
    if (!users.isEmpty()) {
      return new SharedDirJudgement(
          SharedDirVerdict.InUse,
          "no pod of the instance for "
              + Durations.format(gone)
              + ", but pid(s) "
              + new TreeSet<>(users)
              + " have files under it open or mapped; kept");
    }
    return new SharedDirJudgement(
        SharedDirVerdict.Remove,
        "instance gone: no pod of it on this node for "
            + Durations.format(gone)
            + " ("
            + graceText
            + ") and no process has a file under it open or mapped");
  }

  /**
   * A directory under the shared root as inspected: its entry name, the instance the name parses
   * to, and, when it is not plainly a real directory directly under the root, why not.
   */
  public record Dir(String name, Optional<SharedDirName> owner, String unsafe) {
    public static Dir named(String name, String unsafe) {
      return new Dir(name, SharedDirName.parse(name), unsafe);
    }
  }
}
