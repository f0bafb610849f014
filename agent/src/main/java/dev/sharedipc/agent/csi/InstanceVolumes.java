package dev.sharedipc.agent.csi;

import dev.sharedipc.agent.csi.PublishedVolumes.Instance;
import dev.sharedipc.agent.csi.PublishedVolumes.Target;
import dev.sharedipc.agent.kernel.AtFiles;
import dev.sharedipc.agent.scan.SharedDirName;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The instance volumes of this node: the first publish of an instance mounts its tmpfs under {@code
 * <state dir>/instances/<namespace>_<group>_<group uid>_<index>}, every publish bind-mounts it at
 * the pod's target path, the last unpublish unmounts it so its memory returns to the node at once.
 * A larger size asked by a later publish is applied in place. Publish and unpublish are idempotent;
 * every change is recorded in {@link PublishedVolumes} before the mount it allows (so a crash never
 * leaves a mount the state does not name) and after the unmount it follows. It acts only on the
 * kubelet's target paths ({@link KubeletTargets}: refused with INVALID_ARGUMENT otherwise) and
 * undoes only what it did: an unpublish of a target the state does not name succeeds and touches
 * nothing, whatever is there (a file, another mount), as an unpublish of a target already
 * unpublished must. One lock: publishes are rare and each is a few syscalls.
 */
public final class InstanceVolumes {
  private static final Logger LOG = LoggerFactory.getLogger(InstanceVolumes.class);

  /** The target is already published with another volume or instance (ALREADY_EXISTS). */
  public static final class Conflict extends RuntimeException {
    Conflict(String message) {
      super(message);
    }
  }

  private final Path instancesDir;
  private final KubeletTargets targets;
  private final PublishedVolumes store;
  private final Mounter mounter;
  private final Membership membership;
  private final Map<String, Instance> instances;

  public InstanceVolumes(
      Path stateDir, KubeletTargets targets, Mounter mounter, Membership membership)
      throws IOException {
    this.instancesDir = stateDir.resolve("instances");
    this.targets = targets;
    this.store = new PublishedVolumes(stateDir);
    this.mounter = mounter;
    this.membership = membership;
    Files.createDirectories(instancesDir);
    this.instances = store.load();
  }

  /** Where an instance's tmpfs is mounted. */
  public Path instanceDir(SharedDirName instance) {
    return instancesDir.resolve(instance.directoryName());
  }

  /**
   * After a start: forgets targets that are no longer mounted (their pods are gone: the node
   * rebooted, or the kubelet unmounted them while the driver was down) and frees every instance
   * left with none, and any tmpfs under the instances directory that the state does not name.
   */
  public synchronized void recover() throws IOException {
    Set<String> mounted = mounter.mountPoints();
    for (Iterator<Map.Entry<String, Instance>> it = instances.entrySet().iterator();
        it.hasNext(); ) {
      Map.Entry<String, Instance> e = it.next();
      Instance instance = e.getValue();
      instance
          .targets()
          .keySet()
          .removeIf(
              target -> {
                boolean gone = !mounted.contains(target);
                if (gone) {
                  LOG.info(
                      "action=forget instance={} target={} reason=\"target no longer mounted\"",
                      e.getKey(),
                      target);
                }
                return gone;
              });
      if (instance.targets().isEmpty()) {
        free(e.getKey(), mounted, "no target left after restart");
        it.remove();
      } else {
        LOG.info(
            "action=keep instance={} targets={} reason=\"targets still mounted\"",
            e.getKey(),
            instance.targets().size());
      }
    }
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(instancesDir)) {
      for (Path dir : dirs) {
        String name = dir.getFileName().toString();
        if (!instances.containsKey(name)) {
          free(name, mounted, "not in the state file");
        }
      }
    }
    store.save(instances);
  }

  /**
   * Publishes the instance {@code request} names at {@code target}, after {@link Membership}
   * agreed.
   *
   * @param gid the pod's fsGroup (the CSI volume_mount_group), owner group of a new tmpfs
   */
  public void publish(
      String volumeId, Path target, boolean readOnly, int gid, VolumeRequest request)
      throws IOException {
    String targetPod = targets.podUid(target);
    if (!targetPod.equals(request.podUid())) {
      throw new IllegalArgumentException(
          "target_path "
              + target
              + " is pod "
              + targetPod
              + "'s, and the volume attributes name pod "
              + request.podUid());
    }
    targets.check(target); // before anything is asked or made; again before the mount
    membership.check(request);
    String key = request.instance().directoryName();
    String targetKey = target.toString();
    synchronized (this) {
      Set<String> mounted = mounter.mountPoints();
      for (Map.Entry<String, Instance> e : instances.entrySet()) {
        Target existing = e.getValue().targets().get(targetKey);
        if (existing != null) {
          if (!e.getKey().equals(key) || !existing.volumeId().equals(volumeId)) {
            throw new Conflict(
                "target "
                    + target
                    + " already publishes volume "
                    + existing.volumeId()
                    + " of instance "
                    + e.getKey()
                    + "; unpublish it first");
          }
          if (mounted.contains(targetKey)) {
            LOG.debug("action=publish instance={} target={} result=already-published", key, target);
            return;
          }
        }
      }
      Path dir = instancesDir.resolve(key);
      Instance instance = instances.get(key);
      if (instance == null) {
        instance =
            new Instance(
                request.instance().namespace(),
                request.instance().group(),
                request.instance().groupUid(),
                request.instance().instance(),
                request.sizeBytes(),
                gid,
                Map.of());
        instances.put(key, instance);
        store.save(instances);
      }
      try {
        if (!mounted.contains(dir.toString())) {
          Files.createDirectories(dir);
          mounter.mountTmpfs(dir, instance.sizeBytes(), instance.gid());
          LOG.info(
              "action=mount instance={} size={} gid={} mode=2770 path={}",
              key,
              instance.sizeBytes(),
              instance.gid(),
              dir);
        }
        if (request.sizeBytes() > instance.sizeBytes()) {
          mounter.resizeTmpfs(dir, request.sizeBytes());
          LOG.info(
              "action=resize instance={} from={} to={} path={}",
              key,
              instance.sizeBytes(),
              request.sizeBytes(),
              dir);
          instance = withSize(instance, request.sizeBytes());
          instances.put(key, instance);
          store.save(instances);
        }
        if (!targets.check(target)) {
          Files.createDirectory(target);
        }
        if (!mounted.contains(targetKey)) {
          // on the directory the walk found, never through a link put there since the check
          try (AtFiles.Directory at = targets.open(target)) {
            mounter.bind(dir, Path.of(at.fdPath()));
          }
          if (readOnly) {
            try (AtFiles.Directory at = targets.open(target)) { // now the bind mount's root
              mounter.remountReadOnly(Path.of(at.fdPath()));
            }
          }
        }
        instance
            .targets()
            .put(targetKey, new Target(volumeId, request.podName(), request.podUid()));
        store.save(instances);
        LOG.info(
            "action=publish instance={} volume={} pod={}/{} podUid={} target={} readOnly={}",
            key,
            volumeId,
            request.instance().namespace(),
            request.podName(),
            request.podUid(),
            target,
            readOnly);
      } finally {
        if (instance.targets().isEmpty()) {
          // The first publish failed: nothing holds the tmpfs, so it must not outlive this call.
          free(key, mounter.mountPoints(), "first publish failed");
          instances.remove(key);
          store.save(instances);
        }
      }
    }
  }

  /**
   * Unpublishes {@code target}: unmounts it, removes the directory publish made there, and frees
   * its instance when it was the last. A target the state does not name succeeds untouched.
   */
  public synchronized void unpublish(String volumeId, Path target) throws IOException {
    String targetKey = target.toString();
    String key =
        instances.entrySet().stream()
            .filter(e -> e.getValue().targets().containsKey(targetKey))
            .map(Map.Entry::getKey)
            .findFirst()
            .orElse(null);
    if (key == null) {
      LOG.info(
          "action=unpublish volume={} target={} result=not-published reason=\"no volume of this"
              + " driver is published there: nothing touched\"",
          volumeId,
          target);
      return;
    }
    Set<String> mounted = mounter.mountPoints();
    if (targets.check(target)) {
      if (mounted.contains(targetKey)) {
        mounter.unmount(target);
      }
      Files.delete(target); // a directory (check): rmdir, so it must be empty once unmounted
    }
    Instance instance = instances.get(key);
    instance.targets().remove(targetKey);
    LOG.info(
        "action=unpublish instance={} volume={} target={} remaining={}",
        key,
        volumeId,
        target,
        instance.targets().size());
    if (instance.targets().isEmpty()) {
      free(key, mounted, "last target unpublished");
      instances.remove(key);
    }
    store.save(instances);
  }

  /** The instances held now and their targets (for tests and logs). */
  public synchronized Map<String, Instance> instances() {
    return new HashMap<>(instances);
  }

  private void free(String key, Set<String> mounted, String reason) throws IOException {
    Path dir = instancesDir.resolve(key);
    if (mounted.contains(dir.toString())) {
      mounter.unmount(dir);
    }
    Files.deleteIfExists(dir);
    LOG.info("action=free instance={} path={} reason=\"{}\"", key, dir, reason);
  }

  private static Instance withSize(Instance i, long size) {
    return new Instance(
        i.namespace(), i.group(), i.groupUid(), i.index(), size, i.gid(), i.targets());
  }
}
