package dev.sharedipc.agent.attribution;

import dev.sharedipc.agent.scan.SharedDirName;
import dev.sharedipc.api.Labels;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A pod bound to this node as the pod informer last saw it: just what deciding about a SameNode
 * shared directory needs. Labels may be empty, never null; {@code groupUid} is the uid of the pod's
 * controller (its SharedIpcGroup), or null when not known; {@code hostPathNames} holds the last
 * path element of each of its hostPath volumes (the shared directory a member mounts), or is null
 * when its volumes are not known.
 */
public record NodePod(
    String namespace,
    String name,
    Map<String, String> labels,
    String phase,
    String groupUid,
    Set<String> hostPathNames,
    List<Container> containers) {
  public NodePod {
    labels = labels == null ? Map.of() : Map.copyOf(labels);
    hostPathNames = hostPathNames == null ? null : Set.copyOf(hostPathNames);
    containers = containers == null ? List.of() : List.copyOf(containers);
  }

  /** A pod whose container statuses are not known. */
  public NodePod(
      String namespace,
      String name,
      Map<String, String> labels,
      String phase,
      String groupUid,
      Set<String> hostPathNames) {
    this(namespace, name, labels, phase, groupUid, hostPathNames, List.of());
  }

  // ---- container restarts: what the crash-loop guard needs (issue "shared-memory inventory", item
  // 3) ----

  /** The kubelet's back-off reason while it waits to restart a container that keeps crashing. */
  public static final String CRASH_LOOP_BACK_OFF = "CrashLoopBackOff";

  /**
   * One container of the pod as its status says: the reason it is waiting (null when it is not),
   * how often it restarted, and when it last terminated (null when never).
   */
  public record Container(
      String name, String waitingReason, int restartCount, Instant lastTerminatedAt) {}

  /** The containers (init containers included) waiting in CrashLoopBackOff now. */
  public List<String> inBackOff() {
    return containers.stream()
        .filter(c -> CRASH_LOOP_BACK_OFF.equals(c.waitingReason()))
        .map(Container::name)
        .toList();
  }

  /**
   * The containers that restarted (terminated at least once and were started again) since {@code
   * since}.
   */
  public List<String> restartedSince(Instant since) {
    return containers.stream()
        .filter(
            c ->
                c.restartCount() > 0
                    && c.lastTerminatedAt() != null
                    && !c.lastTerminatedAt().isBefore(since))
        .map(Container::name)
        .toList();
  }

  /** A pod whose controller and volumes are not known. */
  public NodePod(String namespace, String name, Map<String, String> labels, String phase) {
    this(namespace, name, labels, phase, null, null);
  }

  /** Succeeded and Failed pods have no running containers and will not start any again. */
  public boolean finished() {
    return "Succeeded".equals(phase) || "Failed".equals(phase);
  }

  /**
   * A pod of that instance that is not finished (Pending, Running, Unknown, or being deleted) still
   * uses its directory. When the pod's volumes are known, only a pod that mounts that very
   * directory uses it: members replaced by a newer operator mount the uid-named directory, and no
   * longer keep one made under the old name. Otherwise the names must agree on the group's uid
   * where both say it (a group deleted and created again under the same name is another group);
   * where either does not say, the pod counts, so that doubt keeps a directory rather than removes
   * it.
   */
  public boolean usesInstance(SharedDirName instance) {
    boolean ofInstance =
        !finished()
            && instance.namespace().equals(namespace)
            && instance.group().equals(labels.get(Labels.GROUP))
            && Integer.toString(instance.instance()).equals(labels.get(Labels.INSTANCE));
    if (!ofInstance) {
      return false;
    }
    if (hostPathNames != null) {
      return hostPathNames.contains(instance.directoryName());
    }
    return instance.groupUid() == null || groupUid == null || instance.groupUid().equals(groupUid);
  }
}
