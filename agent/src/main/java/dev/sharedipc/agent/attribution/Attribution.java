package dev.sharedipc.agent.attribution;

/**
 * Who a segment belongs to and how the agent knows. Only {@link Source#POD_NAMESPACE}, {@link
 * Source#LIVE_CREATOR} and {@link Source#LEDGER} name a pod; the others never allow removal.
 */
public record Attribution(Source source, String podUid, PodInfo pod, String detail) {

  public enum Source {
    /** The segment lives in a pod's own IPC namespace (every process there is in that pod). */
    POD_NAMESPACE,
    /** Host namespace: its creator is alive and in a pod's cgroup. */
    LIVE_CREATOR,
    /** Host namespace: the ledger recorded the creating pod while it was alive. */
    LEDGER,
    /** Processes of more than one pod, or cgroup lines that disagree. */
    AMBIGUOUS,
    /** No pod known. */
    NONE
  }

  public static Attribution none(String detail) {
    return new Attribution(Source.NONE, null, null, detail);
  }

  public static Attribution ambiguous(String detail) {
    return new Attribution(Source.AMBIGUOUS, null, null, detail);
  }

  public boolean attributed() {
    return podUid != null
        && (source == Source.POD_NAMESPACE
            || source == Source.LIVE_CREATOR
            || source == Source.LEDGER);
  }

  public String groupKey() {
    return pod == null ? null : pod.groupKey();
  }

  /** "namespace/name" when the API server told us, else the UID, else "-". */
  public String podLabel() {
    if (pod != null && pod.name() != null) {
      return pod.namespace() + "/" + pod.name();
    }
    return podUid == null ? "-" : podUid;
  }
}
