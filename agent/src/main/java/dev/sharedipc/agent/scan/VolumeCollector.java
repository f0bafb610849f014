package dev.sharedipc.agent.scan;

import dev.sharedipc.agent.kernel.FsUsage;
import dev.sharedipc.agent.kernel.Kernel;
import dev.sharedipc.agent.kernel.KernelException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Finds memory-backed volumes and their use with statfs:
 * <ul>
 *   <li>memory emptyDirs: {@code <kubelet>/pods/<uid>/volumes/kubernetes.io~empty-dir/<name>} on tmpfs;
 *   <li>each pod's {@code /dev/shm}, whatever the runtime (containerd, CRI-O, k3s, Docker): seen
 *       through {@code <proc>/<pid>/root/dev/shm} of one process of the pod, one entry per tmpfs
 *       (by device number), which avoids knowing each runtime's sandbox directory layout;
 *   <li>SameNode shared directories: each directory under the agent's shared root (used bytes summed),
 *       attributed to its instance by name ({@link SharedDirName}); symbolic links there are not followed.
 * </ul>
 */
public final class VolumeCollector {
  private final Kernel kernel;
  private final Path kubeletRoot;
  private final Path procRoot;
  private final Path nodeSharedRoot;

  public VolumeCollector(Kernel kernel, Path kubeletRoot, Path procRoot, Path nodeSharedRoot) {
    this.kernel = kernel;
    this.kubeletRoot = kubeletRoot;
    this.procRoot = procRoot;
    this.nodeSharedRoot = nodeSharedRoot;
  }

  /**
   * @param podPids one live pid per pod UID, from attribution
   * @param problems where to note what could not be read
   */
  public List<MemoryVolume> collect(Map<String, Integer> podPids, List<String> problems) {
    List<MemoryVolume> volumes = new ArrayList<>();
    emptyDirs(volumes, problems);
    devShm(podPids, volumes, problems);
    nodeShared(volumes, problems);
    return volumes;
  }

  private void emptyDirs(List<MemoryVolume> out, List<String> problems) {
    Path pods = kubeletRoot.resolve("pods");
    if (!Files.isDirectory(pods)) {
      return;
    }
    try (DirectoryStream<Path> podDirs = Files.newDirectoryStream(pods)) {
      for (Path pod : podDirs) {
        Path dirs = pod.resolve("volumes/kubernetes.io~empty-dir");
        if (!Files.isDirectory(dirs)) {
          continue;
        }
        try (DirectoryStream<Path> vols = Files.newDirectoryStream(dirs)) {
          for (Path vol : vols) {
            usage(vol, problems).filter(FsUsage::memoryBacked).ifPresent(u -> out.add(new MemoryVolume(
                MemoryVolume.Kind.EmptyDir, vol.getFileName().toString(), vol.toString(), pod.getFileName().toString(),
                u.sizeBytes(), u.usedBytes())));
          }
        } catch (IOException e) {
          problems.add("cannot list " + dirs + ": " + e.getMessage());
        }
      }
    } catch (IOException e) {
      problems.add("cannot list " + pods + ": " + e.getMessage());
    }
  }

  private void devShm(Map<String, Integer> podPids, List<MemoryVolume> out, List<String> problems) {
    Set<Object> seen = new HashSet<>();
    for (Map.Entry<String, Integer> e : podPids.entrySet()) {
      Path shm = procRoot.resolve(Integer.toString(e.getValue())).resolve("root/dev/shm");
      Object device;
      try {
        device = Files.getAttribute(shm, "unix:dev");
      } catch (IOException | UnsupportedOperationException ex) {
        continue; // the process left, or has no /dev/shm
      }
      if (!seen.add(device)) {
        continue;
      }
      usage(shm, problems).filter(FsUsage::memoryBacked).ifPresent(u -> out.add(new MemoryVolume(
          MemoryVolume.Kind.DevShm, "dev-shm", shm.toString(), e.getKey(), u.sizeBytes(), u.usedBytes())));
    }
  }

  private void nodeShared(List<MemoryVolume> out, List<String> problems) {
    if (nodeSharedRoot == null || !Files.isDirectory(nodeSharedRoot)) {
      return;
    }
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(nodeSharedRoot)) {
      for (Path dir : dirs) {
        if (Files.isSymbolicLink(dir)) {
          // never followed: a link could lead anywhere on the host
          problems.add("shared directory entry " + dir + " is a symbolic link; not followed, not measured");
          continue;
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
          continue;
        }
        Optional<FsUsage> fs = usage(dir, problems);
        if (fs.isEmpty() || !fs.get().memoryBacked()) {
          continue;
        }
        long used = 0;
        try (Stream<Path> files = Files.walk(dir)) {
          used = files.filter(Files::isRegularFile).mapToLong(f -> {
            try {
              return Files.size(f);
            } catch (IOException ex) {
              return 0;
            }
          }).sum();
        } catch (IOException | java.io.UncheckedIOException ex) {
          problems.add("cannot walk " + dir + ": " + ex.getMessage());
        }
        String name = dir.getFileName().toString();
        Optional<SharedDirName> owner = SharedDirName.parse(name);
        out.add(new MemoryVolume(MemoryVolume.Kind.NodeShared, name, dir.toString(), null, fs.get().sizeBytes(), used,
            owner.map(SharedDirName::namespace).orElse(null), owner.map(SharedDirName::group).orElse(null),
            owner.map(SharedDirName::instance).orElse(null)));
      }
    } catch (IOException e) {
      problems.add("cannot list " + nodeSharedRoot + ": " + e.getMessage());
    }
  }

  private Optional<FsUsage> usage(Path path, List<String> problems) {
    try {
      return kernel.statfs(path);
    } catch (KernelException e) {
      problems.add(e.getMessage());
      return Optional.empty();
    }
  }
}
