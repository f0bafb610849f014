package dev.sharedipc.agent.attribution;

/**
 * What a process's {@code /proc/<pid>/cgroup} says about it: the pod UID (dashed, lower case) when
 * the path is a kubelet pod cgroup, the container runtime and id when recognisable, and whether the
 * lines disagreed about the pod (then {@code podUid} is null: never guess).
 */
public record CgroupInfo(String podUid, String runtime, String containerId, boolean conflicting) {
  public static final CgroupInfo NONE = new CgroupInfo(null, null, null, false);

  public boolean inPod() {
    return podUid != null;
  }
}
