package dev.sharedipc.agent.csi;

import dev.sharedipc.agent.kernel.AtFiles;
import dev.sharedipc.agent.kernel.KernelException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The only target paths the plugin acts on: where the kubelet asks for a pod's CSI volume, {@code
 * <kubelet root>/pods/<pod uid>/volumes/kubernetes.io~csi/<volume name>/mount} (the kubelet's
 * csi_mounter: the volume's directory and its vol_data.json are the kubelet's, {@code mount} is the
 * plugin's to make and remove). Any other path given to NodePublishVolume, a bind mount over an
 * arbitrary directory of the host, is refused, and so is a path whose directories below the kubelet
 * root include a symbolic link, which would lead the mount or the removal elsewhere. The kubelet
 * root itself is the operator's configuration ({@code --kubelet-root}) and is taken as it is.
 */
public final class KubeletTargets {
  /** The kubelet's directory names for a CSI volume, under {@code pods/<pod uid>/}. */
  private static final String VOLUMES = "volumes";

  private static final String CSI_PLUGIN_DIR = "kubernetes.io~csi";
  private static final String MOUNT = "mount";

  /**
   * A pod UID (a UUID, or the hash the kubelet gives a static pod) or an escaped volume name
   * (DNS-1123, a PersistentVolume's name, {@code ~} for an escaped {@code /}).
   */
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._~-]{0,252}");

  private final Path pods;

  /**
   * @param kubeletRoot the kubelet's root directory ({@code --root-dir}; /var/lib/kubelet)
   */
  public KubeletTargets(Path kubeletRoot) {
    this.pods = kubeletRoot.toAbsolutePath().normalize().resolve("pods");
  }

  /** Where the kubelet keeps its pods' directories. */
  public Path podsDirectory() {
    return pods;
  }

  /**
   * The pod UID of a target of the kubelet's form; pure, reads nothing.
   *
   * @throws IllegalArgumentException naming the form, for any other path
   */
  public String podUid(Path target) {
    if (target.isAbsolute() && target.normalize().equals(target) && target.startsWith(pods)) {
      Path rest = pods.relativize(target);
      if (rest.getNameCount() == 5
          && NAME.matcher(rest.getName(0).toString()).matches()
          && rest.getName(1).toString().equals(VOLUMES)
          && rest.getName(2).toString().equals(CSI_PLUGIN_DIR)
          && NAME.matcher(rest.getName(3).toString()).matches()
          && rest.getName(4).toString().equals(MOUNT)) {
        return rest.getName(0).toString();
      }
    }
    throw new IllegalArgumentException(
        "target_path "
            + target
            + " is not where the kubelet publishes a CSI volume ("
            + pods
            + "/<pod uid>/"
            + VOLUMES
            + "/"
            + CSI_PLUGIN_DIR
            + "/<volume name>/"
            + MOUNT
            + "; is --kubelet-root the kubelet's --root-dir?)");
  }

  /**
   * Checks a target of the kubelet's form on disk: every directory from the pods directory down to
   * the volume's is a directory and not a symbolic link (the kubelet made them), and the target is
   * absent or such a directory.
   *
   * @return whether the target exists
   * @throws IllegalArgumentException when one of them is a link or not a directory, or is missing
   */
  public boolean check(Path target) throws IOException {
    podUid(target);
    for (Path dir = pods;
        !dir.equals(target);
        dir = dir.resolve(target.getName(dir.getNameCount()))) {
      if (!directory(dir)) {
        throw new IllegalArgumentException(
            "target_path " + target + ": " + dir + " is missing (the kubelet makes it first)");
      }
    }
    return directory(target);
  }

  /**
   * The target directory, opened from the pods directory down one component at a time with {@code
   * O_NOFOLLOW} (kernel/AtFiles): a mount on its {@link AtFiles.Directory#fdPath} lands on the
   * directory that walk found, even if a link was put at one of the components after {@link
   * #check}. A mount at the target is crossed: the root of that mount is opened.
   *
   * @throws IllegalArgumentException when the walk meets a link, or a component is missing
   */
  public AtFiles.Directory open(Path target) {
    podUid(target);
    List<String> components = new ArrayList<>();
    pods.relativize(target).forEach(c -> components.add(c.toString()));
    try {
      return AtFiles.openDirectory(pods, components);
    } catch (KernelException e) {
      throw new IllegalArgumentException("target_path " + target + ": " + e.getMessage(), e);
    }
  }

  /** Whether {@code path} is a directory; false when absent; refuses a link or another file. */
  private static boolean directory(Path path) throws IOException {
    BasicFileAttributes a;
    try {
      a = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return false;
    }
    if (!a.isDirectory()) {
      throw new IllegalArgumentException(
          path
              + " is "
              + (a.isSymbolicLink() ? "a symbolic link" : "not a directory")
              + ": the plugin follows no link and mounts only on directories under the kubelet's"
              + " pods directory");
    }
    return true;
  }
}
