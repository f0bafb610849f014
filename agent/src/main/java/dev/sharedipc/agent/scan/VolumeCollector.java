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
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Finds memory-backed volumes and their use with statfs:
 *
 * <ul>
 *   <li>memory emptyDirs: {@code <kubelet>/pods/<uid>/volumes/kubernetes.io~empty-dir/<name>} on
 *       tmpfs;
 *   <li>each pod's {@code /dev/shm}, whatever the runtime (containerd, CRI-O, k3s, Docker): seen
 *       through {@code <proc>/<pid>/root/dev/shm} of the pod's member processes, which avoids
 *       knowing each runtime's sandbox directory layout;
 *   <li>SameNode shared directories: each directory under the agent's shared root (used bytes
 *       summed), attributed to its instance by name ({@link SharedDirName}); symbolic links there
 *       are not followed;
 *   <li>CSI instance volumes: each tmpfs the CSI driver mounted at {@code <csi state
 *       dir>/instances/<namespace>_<group>_<uid>_<index>}, attributed to that instance (never to
 *       one pod: each member binds it, so the POSIX reaper never removes inside it).
 * </ul>
 *
 * Each filesystem is counted once, by device ({@link FsUsage#device()}): one tmpfs is often seen
 * through several paths (a memory emptyDir mounted at {@code /dev/shm}, the same volume in several
 * containers, a shared directory bind-mounted as a pod's {@code /dev/shm}). The first to claim a
 * device keeps it, in this order: shared directories (and the shared root's own filesystem, which
 * holds the hostPath ones and may be the node's /dev/shm), then CSI instances (before pods' {@code
 * /dev/shm}: a member that mounts its instance there must not make it that pod's alone), then
 * emptyDirs, whose entry names the volume, then pods' {@code /dev/shm}. Shared directories are
 * measured by their files, not by statfs, so several of them on one filesystem are each counted.
 */
public final class VolumeCollector {
  private final Kernel kernel;
  private final Path kubeletRoot;
  private final Path procRoot;
  private final Path nodeSharedRoot;

  private final Path csiStateDir;

  public VolumeCollector(Kernel kernel, Path kubeletRoot, Path procRoot, Path nodeSharedRoot) {
    this(kernel, kubeletRoot, procRoot, nodeSharedRoot, null);
  }

  /**
   * @param csiStateDir the CSI driver's {@code --state-dir}; null when there is none to inventory
   */
  public VolumeCollector(
      Kernel kernel, Path kubeletRoot, Path procRoot, Path nodeSharedRoot, Path csiStateDir) {
    this.kernel = kernel;
    this.kubeletRoot = kubeletRoot;
    this.procRoot = procRoot;
    this.nodeSharedRoot = nodeSharedRoot;
    this.csiStateDir = csiStateDir;
  }

  /**
   * @param podPids every live pid of each pod, by pod UID, from attribution
   * @param problems where to note what could not be read
   */
  public List<MemoryVolume> collect(Map<String, List<Integer>> podPids, List<String> problems) {
    Set<Long> claimed = new HashSet<>();
    List<MemoryVolume> shared = new ArrayList<>();
    nodeShared(shared, claimed, problems);
    csiInstances(shared, claimed, problems);
    List<MemoryVolume> volumes = new ArrayList<>();
    emptyDirs(volumes, claimed, problems);
    devShm(podPids, volumes, claimed, problems);
    volumes.addAll(shared);
    return volumes;
  }

  /**
   * True when the filesystem was not counted yet (and now is); an unknown device is never a
   * duplicate.
   */
  private static boolean claim(Set<Long> claimed, FsUsage fs) {
    return fs.device() < 0 || claimed.add(fs.device());
  }

  private void emptyDirs(List<MemoryVolume> out, Set<Long> claimed, List<String> problems) {
    Path pods = kubeletRoot.resolve("pods");
    if (!Files.isDirectory(pods)) {
      return;
    }
    List<Path> podDirs = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(pods)) {
      entries.forEach(podDirs::add);
    } catch (IOException e) {
      problems.add("cannot list " + pods + ": " + e.getMessage());
      return;
    }
    podDirs.sort(null); // which path claims a shared device must not depend on directory order
    for (Path pod : podDirs) {
      Path dirs = pod.resolve("volumes/kubernetes.io~empty-dir");
      if (!Files.isDirectory(dirs)) {
        continue;
      }
      List<Path> vols = new ArrayList<>();
      try (DirectoryStream<Path> entries = Files.newDirectoryStream(dirs)) {
        entries.forEach(vols::add);
      } catch (IOException e) {
        problems.add("cannot list " + dirs + ": " + e.getMessage());
        continue;
      }
      vols.sort(null);
      for (Path vol : vols) {
        usage(vol, problems)
            .filter(FsUsage::memoryBacked)
            .filter(u -> claim(claimed, u))
            .ifPresent(
                u ->
                    out.add(
                        new MemoryVolume(
                            MemoryVolume.Kind.EmptyDir,
                            vol.getFileName().toString(),
                            vol.toString(),
                            pod.getFileName().toString(),
                            u.sizeBytes(),
                            u.usedBytes())));
      }
    }
  }

  /**
   * A pod's /dev/shm as its members see it. Not through the sandbox's pause process: its mount
   * namespace is the pause container's, whose /dev/shm is the sandbox's and not what a member
   * mounts there (a memory emptyDir, a shared directory). The pause process is recognized by its
   * command, {@code pause} (the image every runtime uses: containerd, CRI-O, k3s, Docker's {@code
   * k8s_POD}); it is read only when the pod has no other process left, since its /dev/shm is then
   * still what a member would get by default. One process per mount namespace is enough: the
   * processes of one container see the same mounts.
   */
  private void devShm(
      Map<String, List<Integer>> podPids,
      List<MemoryVolume> out,
      Set<Long> claimed,
      List<String> problems) {
    for (Map.Entry<String, List<Integer>> pod : new TreeMap<>(podPids).entrySet()) {
      List<Integer> members = pod.getValue().stream().filter(pid -> !isPause(pid)).toList();
      Set<String> mountNamespaces = new HashSet<>();
      for (int pid : members.isEmpty() ? pod.getValue() : members) {
        Path pidDir = procRoot.resolve(Integer.toString(pid));
        if (!mountNamespaces.add(mountNamespaceOf(pidDir, pid))) {
          continue;
        }
        Path shm = pidDir.resolve("root/dev/shm");
        usage(shm, problems)
            .filter(FsUsage::memoryBacked)
            .filter(u -> claim(claimed, u))
            .ifPresent(
                u ->
                    out.add(
                        new MemoryVolume(
                            MemoryVolume.Kind.DevShm,
                            "dev-shm",
                            shm.toString(),
                            pod.getKey(),
                            u.sizeBytes(),
                            u.usedBytes())));
      }
    }
  }

  /** The sandbox's pause process: argv[0] is {@code pause} or ends in {@code /pause}. */
  private boolean isPause(int pid) {
    byte[] cmdline;
    try {
      cmdline = Files.readAllBytes(procRoot.resolve(Integer.toString(pid)).resolve("cmdline"));
    } catch (IOException e) {
      return false; // gone, or a fixture without it: treated as a member
    }
    int end = 0;
    while (end < cmdline.length && cmdline[end] != 0) {
      end++;
    }
    String argv0 = new String(cmdline, 0, end, java.nio.charset.StandardCharsets.UTF_8);
    return argv0.equals("pause") || argv0.endsWith("/pause");
  }

  /**
   * The link text {@code mnt:[inode]} of the process's mount namespace, or one of its own when
   * unreadable.
   */
  private static String mountNamespaceOf(Path pidDir, int pid) {
    try {
      return Files.readSymbolicLink(pidDir.resolve("ns/mnt")).toString();
    } catch (IOException | UnsupportedOperationException e) {
      return "pid:" + pid;
    }
  }

  private void nodeShared(List<MemoryVolume> out, Set<Long> claimed, List<String> problems) {
    if (nodeSharedRoot == null || !Files.isDirectory(nodeSharedRoot)) {
      return;
    }
    // a pod's /dev/shm on this filesystem is a hostPath shared directory (counted below by its
    // files) or the
    // node's own /dev/shm (a hostIPC pod's): neither is to be counted again as the whole filesystem
    usage(nodeSharedRoot, problems).filter(FsUsage::memoryBacked).ifPresent(u -> claim(claimed, u));
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(nodeSharedRoot)) {
      for (Path dir : dirs) {
        if (Files.isSymbolicLink(dir)) {
          // never followed: a link could lead anywhere on the host
          problems.add(
              "shared directory entry " + dir + " is a symbolic link; not followed, not measured");
          continue;
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
          continue;
        }
        Optional<FsUsage> fs = usage(dir, problems);
        if (fs.isEmpty() || !fs.get().memoryBacked()) {
          continue;
        }
        claim(
            claimed,
            fs.get()); // a directory that is a tmpfs of its own may be bind-mounted as members'
        // /dev/shm
        long used = 0;
        try (Stream<Path> files = Files.walk(dir)) {
          used =
              files
                  .filter(Files::isRegularFile)
                  .mapToLong(
                      f -> {
                        try {
                          return Files.size(f);
                        } catch (IOException ex) {
                          return 0;
                        }
                      })
                  .sum();
        } catch (IOException | java.io.UncheckedIOException ex) {
          problems.add("cannot walk " + dir + ": " + ex.getMessage());
        }
        String name = dir.getFileName().toString();
        Optional<SharedDirName> owner = SharedDirName.parse(name);
        out.add(
            new MemoryVolume(
                MemoryVolume.Kind.NodeShared,
                name,
                dir.toString(),
                null,
                fs.get().sizeBytes(),
                used,
                owner.map(SharedDirName::namespace).orElse(null),
                owner.map(SharedDirName::group).orElse(null),
                owner.map(SharedDirName::groupUid).orElse(null),
                owner.map(SharedDirName::instance).orElse(null)));
      }
    } catch (IOException e) {
      problems.add("cannot list " + nodeSharedRoot + ": " + e.getMessage());
    }
  }

  /**
   * The CSI driver's instance tmpfs mounts. A directory there that is not a mount of its own (same
   * device as the instances directory: the driver made it and has not mounted it yet, or unmounted
   * it) holds no instance memory and is skipped.
   */
  private void csiInstances(List<MemoryVolume> out, Set<Long> claimed, List<String> problems) {
    Path instances = csiStateDir == null ? null : csiStateDir.resolve("instances");
    if (instances == null || !Files.isDirectory(instances, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Optional<FsUsage> parent = usage(instances, problems);
    List<Path> dirs = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(instances)) {
      entries.forEach(dirs::add);
    } catch (IOException e) {
      problems.add("cannot list " + instances + ": " + e.getMessage());
      return;
    }
    dirs.sort(null);
    for (Path dir : dirs) {
      if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
        continue; // never followed: a link could lead anywhere on the host
      }
      Optional<FsUsage> fs =
          usage(dir, problems)
              .filter(FsUsage::memoryBacked)
              .filter(
                  u -> parent.isEmpty() || u.device() < 0 || u.device() != parent.get().device());
      if (fs.isEmpty() || !claim(claimed, fs.get())) {
        continue;
      }
      String name = dir.getFileName().toString();
      Optional<SharedDirName> owner = SharedDirName.parse(name);
      out.add(
          new MemoryVolume(
              MemoryVolume.Kind.CsiInstance,
              name,
              dir.toString(),
              null,
              fs.get().sizeBytes(),
              fs.get().usedBytes(),
              owner.map(SharedDirName::namespace).orElse(null),
              owner.map(SharedDirName::group).orElse(null),
              owner.map(SharedDirName::groupUid).orElse(null),
              owner.map(SharedDirName::instance).orElse(null)));
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
