package dev.sharedipc.agent.attribution;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a pod UID out of {@code /proc/<pid>/cgroup}, for every layout the kubelet produces:
 *
 * <ul>
 *   <li>cgroup v1 and v2 (lines {@code id:controllers:path}; v2 is {@code 0::path});
 *   <li>cgroupfs driver: {@code /kubepods/[burstable|besteffort/]pod<uid>/<container>};
 *   <li>systemd driver: {@code
 *       /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_with_underscores>.slice/cri-containerd-<id>.scope}
 *       (CRI-O: {@code crio-<id>.scope}, Docker: {@code docker-<id>.scope});
 *   <li>k3s/rke2 ({@code /kubepods/...} under the k3s agent, same pod segment).
 * </ul>
 *
 * Lines that are not {@code id:controllers:path} are ignored. When two lines name different pods
 * the result has no pod (a conflict is reported, not resolved).
 */
public final class CgroupParser {
  private static final String UID =
      "[0-9a-fA-F]{8}[-_][0-9a-fA-F]{4}[-_][0-9a-fA-F]{4}[-_][0-9a-fA-F]{4}[-_][0-9a-fA-F]{12}";

  /**
   * "pod<uid>" as a whole path element or as the last dash-separated part of a systemd slice name.
   */
  private static final Pattern POD =
      Pattern.compile("(?:^|[/-])pod(" + UID + ")(?:\\.slice)?(?=/|$)");

  private static final Pattern SCOPE =
      Pattern.compile(
          "(?:^|/)(cri-containerd|crio|docker|containerd)-([0-9a-fA-F]{12,64})\\.scope(?=/|$)");
  private static final Pattern BARE_ID = Pattern.compile("/([0-9a-f]{64})$");
  private static final Pattern DOCKER = Pattern.compile("/docker/([0-9a-f]{12,64})(?=/|$)");

  private CgroupParser() {}

  public static CgroupInfo parse(String content) {
    String pod = null;
    String runtime = null;
    String container = null;
    boolean conflict = false;
    for (String line : content.split("\n")) {
      int first = line.indexOf(':');
      int second = first < 0 ? -1 : line.indexOf(':', first + 1);
      if (first <= 0 || second < 0 || !isNumber(line, 0, first)) {
        continue;
      }
      String path = line.substring(second + 1).trim();
      if (!path.startsWith("/")) {
        continue;
      }
      Matcher m = POD.matcher(path);
      String found = null;
      while (m.find()) {
        found = m.group(1).replace('_', '-').toLowerCase(Locale.ROOT);
      }
      if (found != null) {
        if (pod == null) {
          pod = found;
        } else if (!pod.equals(found)) {
          conflict = true;
        }
      }
      if (container == null) {
        Matcher s = SCOPE.matcher(path);
        if (s.find()) {
          runtime = s.group(1).equals("cri-containerd") ? "containerd" : s.group(1);
          container = s.group(2);
        } else if (found != null) {
          Matcher b = BARE_ID.matcher(path);
          if (b.find()) {
            container = b.group(1);
          }
        } else {
          Matcher d = DOCKER.matcher(path);
          if (d.find()) {
            runtime = "docker";
            container = d.group(1);
          }
        }
      }
    }
    if (conflict) {
      return new CgroupInfo(null, runtime, container, true);
    }
    return new CgroupInfo(pod, runtime, container, false);
  }

  private static boolean isNumber(String s, int from, int to) {
    for (int i = from; i < to; i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '9') {
        return false;
      }
    }
    return true;
  }
}
