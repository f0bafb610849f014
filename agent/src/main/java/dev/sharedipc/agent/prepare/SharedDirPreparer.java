package dev.sharedipc.agent.prepare;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sharedipc.agent.kube.KubeApi;
import dev.sharedipc.agent.scan.SharedDirName;
import dev.sharedipc.api.Labels;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the node directory a SameNode instance shares (hostPath mode) before the kubelet mounts it:
 * when a member pod is bound to this node, {@code <shared root>/<namespace>_<group>_<group
 * uid>_<index>} is created with owner root, the members' group (annotation {@link
 * Labels#SHARED_DIRECTORY_GID_ANNOTATION}, group 0 without it) and mode 2770: the members, non-root
 * ones included, can read and write, files made in it inherit the group (setgid), and nobody else
 * on the node can enter. The operator renders the volume as hostPath type {@code Directory}, so the
 * kubelet keeps the pod in ContainerCreating (FailedMount, retried) until the directory is here,
 * and never makes a root-owned 0755 one itself.
 *
 * <p>Why the agent and not an init container: making and chowning a directory on the node needs
 * root and CAP_CHOWN in the pod that does it, which Pod Security {@code baseline} and {@code
 * restricted} refuse to members; the agent is privileged already and watches this node's pods.
 *
 * <p>Only pods the operator made are believed: the managed-by label, a controller ownerReference to
 * a SharedIpcGroup named like the group label (whose uid names the directory), an instance label,
 * and a hostPath volume that ends in exactly that directory's name. The directory is made directly
 * under the shared root, its attributes read and changed without following a symbolic link; an
 * entry of that name that is not a directory is left alone and reported.
 */
public final class SharedDirPreparer {
  private static final Logger log = LoggerFactory.getLogger(SharedDirPreparer.class);

  /** rwxrws---: owner and group read, write and enter; new entries inherit the group. */
  public static final int MODE = 02770;

  private final Path root;

  public SharedDirPreparer(Path root) {
    this.root = root;
  }

  /** What the pod asks for: its instance's directory and its group, or why it asks for nothing. */
  public record Wanted(SharedDirName name, int gid) {}

  /**
   * What preparing did: Created, Repaired (owner or mode set right), Present (already right),
   * Failed or Refused.
   */
  public record Prepared(String path, Outcome outcome, String reason) {}

  /** Outcome of one preparation. */
  public enum Outcome {
    Created,
    Repaired,
    Present,
    Refused,
    Failed
  }

  /**
   * Ensures the pod's instance directory exists with owner root, the wanted group and mode 2770.
   * Empty when the pod does not share a node directory (not ours, another placement, finished).
   */
  public Optional<Prepared> prepare(JsonNode pod) {
    Optional<Wanted> wanted = wanted(pod);
    if (wanted.isEmpty() || root == null) {
      return Optional.empty();
    }
    Prepared p = ensure(wanted.get());
    String line =
        "shared-dir-prepare dir=\""
            + p.path()
            + "\" pod="
            + pod.path("metadata").path("namespace").asText()
            + "/"
            + pod.path("metadata").path("name").asText()
            + " gid="
            + wanted.get().gid()
            + " outcome="
            + p.outcome()
            + " reason=\""
            + p.reason()
            + "\"";
    switch (p.outcome()) {
      case Present -> log.debug(line);
      case Created, Repaired -> log.info(line);
      default -> log.warn(line);
    }
    return Optional.of(p);
  }

  /**
   * The directory and group a pod of this node asks for, as a pure function of the pod (as the API
   * server sends it).
   */
  public static Optional<Wanted> wanted(JsonNode pod) {
    JsonNode meta = pod.path("metadata");
    if (!meta.isObject() || !pod.path("spec").isObject() || meta.hasNonNull("deletionTimestamp")) {
      return Optional.empty();
    }
    String phase = pod.path("status").path("phase").asText("");
    if ("Succeeded".equals(phase) || "Failed".equals(phase)) {
      return Optional.empty();
    }
    JsonNode labels = meta.path("labels");
    String group = KubeApi.text(labels, Labels.GROUP);
    if (!Labels.MANAGED_BY_VALUE.equals(KubeApi.text(labels, Labels.MANAGED_BY)) || group == null) {
      return Optional.empty();
    }
    String ownerUid = null;
    for (JsonNode r : meta.path("ownerReferences")) {
      String apiVersion = KubeApi.text(r, "apiVersion");
      if (r.path("controller").asBoolean(false)
          && "SharedIpcGroup".equals(KubeApi.text(r, "kind"))
          && group.equals(KubeApi.text(r, "name"))
          && apiVersion != null
          && apiVersion.startsWith(Labels.DOMAIN + "/")) {
        ownerUid = KubeApi.text(r, "uid");
        break;
      }
    }
    if (ownerUid == null) {
      return Optional.empty();
    }
    String candidate =
        KubeApi.text(meta, "namespace")
            + "_"
            + group
            + "_"
            + ownerUid
            + "_"
            + KubeApi.text(labels, Labels.INSTANCE);
    Optional<SharedDirName> name = SharedDirName.parse(candidate).filter(n -> n.groupUid() != null);
    if (name.isEmpty() || !hostPathNames(pod).contains(name.get().directoryName())) {
      return Optional.empty();
    }
    return Optional.of(new Wanted(name.get(), gid(meta)));
  }

  /**
   * The last path element of each hostPath volume of a pod (as the API server sends it): the
   * SameNode shared directory a member mounts. The agent's pod cache keeps the same
   * (report/ClusterView).
   */
  public static java.util.Set<String> hostPathNames(JsonNode pod) {
    java.util.Set<String> names = new java.util.HashSet<>();
    for (JsonNode v : pod.path("spec").path("volumes")) {
      String path = KubeApi.text(v.path("hostPath"), "path");
      Path file = path == null ? null : Path.of(path).getFileName();
      if (file != null) {
        names.add(file.toString());
      }
    }
    return names;
  }

  /**
   * The annotation's group id; absent or unreadable is group 0 (root), which the operator
   * documents.
   */
  private static int gid(JsonNode meta) {
    String value = KubeApi.text(meta.path("annotations"), Labels.SHARED_DIRECTORY_GID_ANNOTATION);
    try {
      long gid = value == null ? 0 : Long.parseLong(value);
      return gid >= 0 && gid <= Integer.MAX_VALUE ? (int) gid : 0;
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /**
   * mkdir, then chmod while the directory has the agent's own group 0 (so the setgid bit stays
   * without CAP_FSETID), then chown to the wanted group (a directory keeps setgid through chown).
   * An existing directory is set right the same way; nothing is followed through a symbolic link.
   */
  Prepared ensure(Wanted wanted) {
    Path dir = root.resolve(wanted.name().directoryName());
    String path = dir.toString();
    try {
      boolean created;
      try {
        Files.createDirectory(dir);
        created = true;
      } catch (FileAlreadyExistsException e) {
        created = false;
      }
      if (Files.isSymbolicLink(dir) || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
        return new Prepared(
            path,
            Outcome.Refused,
            "an entry of that name exists and is not a directory; left alone "
                + "(remove it so that the instance's pods can start)");
      }
      Map<String, Object> now =
          Files.readAttributes(dir, "unix:uid,gid,mode", LinkOption.NOFOLLOW_LINKS);
      int mode = (Integer) now.get("mode") & 07777;
      int gid = (Integer) now.get("gid");
      int uid = (Integer) now.get("uid");
      if (mode == MODE && gid == wanted.gid() && uid == 0) {
        return new Prepared(
            path,
            created ? Outcome.Created : Outcome.Present,
            created
                ? "made for the instance's pods"
                : "already owned by root:" + gid + " with mode 2770");
      }
      // Group 0 first: the agent runs as root:0, so chmod keeps the setgid bit without CAP_FSETID.
      Files.setAttribute(dir, "unix:uid", 0, LinkOption.NOFOLLOW_LINKS);
      Files.setAttribute(dir, "unix:gid", 0, LinkOption.NOFOLLOW_LINKS);
      Files.setAttribute(dir, "unix:mode", MODE, LinkOption.NOFOLLOW_LINKS);
      Files.setAttribute(dir, "unix:gid", wanted.gid(), LinkOption.NOFOLLOW_LINKS);
      return new Prepared(
          path,
          created ? Outcome.Created : Outcome.Repaired,
          created
              ? "made for the instance's pods"
              : "was "
                  + uid
                  + ":"
                  + gid
                  + " mode "
                  + Integer.toOctalString(mode)
                  + ", set to 0:"
                  + wanted.gid()
                  + " mode 2770");
    } catch (IOException | RuntimeException e) {
      return new Prepared(
          path,
          Outcome.Failed,
          "preparing "
              + path
              + " for gid "
              + wanted.gid()
              + " failed: "
              + e
              + " (the agent needs CAP_CHOWN and DAC_OVERRIDE and the shared root mounted read-write; the pods wait in "
              + "ContainerCreating until it exists)");
    }
  }
}
