package dev.sharedipc.agent.csi;

import dev.sharedipc.agent.csi.MountTable.Mount;
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
 * leaves a mount the state does not name) and after the unmount it follows, and "already published"
 * means the target shows the instance's own tmpfs (the same superblock, by mountinfo), never just
 * some mount. It acts only on the kubelet's target paths ({@link KubeletTargets}: refused with
 * INVALID_ARGUMENT otherwise) and undoes only what it did: an unpublish of a target the state does
 * not name succeeds and touches nothing, whatever is there (a file, another mount), as an unpublish
 * of a target already unpublished must. One lock: publishes are rare and each is a few syscalls.
 */
public final class InstanceVolumes {
  private static final Logger LOG = LoggerFactory.getLogger(InstanceVolumes.class);

  /**
   * The target is already published with another volume or instance, or with the other readonly
   * flag (ALREADY_EXISTS).
   */
  public static final class Conflict extends RuntimeException {
    Conflict(String message) {
      super(message);
    }
  }

  /**
   * The publish cannot be done in the node's present state, and the driver will not change that
   * state itself (FAILED_PRECONDITION: the kubelet retries and reports it on the pod).
   */
  public static final class Incompatible extends RuntimeException {
    Incompatible(String message) {
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
   * After a start: forgets targets that no longer show the instance's tmpfs (their pods are gone:
   * the node rebooted, or the kubelet unmounted them while the driver was down; or the publish that
   * recorded them died before its bind) and frees every instance left with none, and any tmpfs
   * under the instances directory that the state does not name. A target that shows another
   * filesystem is forgotten and left as it is: the driver unmounts only what it knows it mounted.
   */
  public synchronized void recover() throws IOException {
    Map<String, Mount> mounts = mounter.mounts();
    for (Iterator<Map.Entry<String, Instance>> it = instances.entrySet().iterator();
        it.hasNext(); ) {
      Map.Entry<String, Instance> e = it.next();
      Instance instance = e.getValue();
      Mount tmpfs = mounts.get(instancesDir.resolve(e.getKey()).toString());
      instance
          .targets()
          .keySet()
          .removeIf(
              target -> {
                Mount there = mounts.get(target);
                if (there == null) {
                  LOG.info(
                      "action=forget instance={} target={} reason=\"target no longer mounted\"",
                      e.getKey(),
                      target);
                  return true;
                }
                if (tmpfs == null || !there.sameFilesystem(tmpfs)) {
                  LOG.warn(
                      "action=forget instance={} target={} mounted=\"{}\" reason=\"the target"
                          + " shows another filesystem than the instance's tmpfs ({}): left as it"
                          + " is\"",
                      e.getKey(),
                      target,
                      there.describe(),
                      tmpfs == null ? "not mounted" : tmpfs.describe());
                  return true;
                }
                return false;
              });
      if (instance.targets().isEmpty()) {
        free(e.getKey(), mounts.keySet(), "no target left after restart");
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
          free(name, mounts.keySet(), "not in the state file");
        }
      }
    }
    store.save(instances);
  }

  /**
   * Publishes the instance {@code request} names at {@code target}, after {@link Membership}
   * agreed. The target is recorded before its bind mount, so a restart after any step knows it; a
   * publish of a target already recorded is done when the target shows the instance's own tmpfs
   * (the same superblock as the instance directory, by mountinfo), and finishes a read-only remount
   * a crash cut short.
   *
   * @param fsGroup the pod's fsGroup (the CSI volume_mount_group; 0 when it sets none): the tmpfs's
   *     group when the request carries no gid attribute ({@link #tmpfsGid})
   * @throws Conflict when the target is recorded for another volume or instance, or with the other
   *     readonly flag
   * @throws Incompatible when the target already shows a mount that is not the instance's tmpfs, or
   *     the instance's tmpfs has another group than the one this publish asks
   */
  public void publish(
      String volumeId, Path target, boolean readOnly, int fsGroup, VolumeRequest request)
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
      Map<String, Mount> mounts = mounter.mounts();
      Path dir = instancesDir.resolve(key);
      Target recorded = recordedTarget(key, volumeId, target, readOnly);
      Mount atTarget = mounts.get(targetKey);
      if (atTarget != null) {
        Mount tmpfs = mounts.get(dir.toString());
        if (recorded == null || tmpfs == null || !atTarget.sameFilesystem(tmpfs)) {
          throw new Incompatible(
              "target "
                  + target
                  + " already shows "
                  + atTarget.describe()
                  + ", not the tmpfs of instance "
                  + key
                  + (tmpfs == null ? " (not mounted)" : " (" + tmpfs.describe() + ")")
                  + "; the driver did not mount it there and leaves it: unmount it, then the"
                  + " kubelet's retry publishes the instance");
        }
        if (readOnly && !atTarget.readOnly()) {
          remountReadOnly(target); // a publish that died between its bind and this remount
          LOG.info(
              "action=publish instance={} target={} result=read-only-remount-finished",
              key,
              target);
        }
        LOG.debug("action=publish instance={} target={} result=already-published", key, target);
        return;
      }
      int gid = tmpfsGid(request, fsGroup);
      Instance instance = instances.get(key);
      if (instance != null && instance.gid() != gid) {
        throw new Incompatible(
            "the tmpfs of instance "
                + key
                + " is group "
                + instance.gid()
                + ", and pod "
                + request.instance().namespace()
                + "/"
                + request.podName()
                + " asks group "
                + gid
                + (request.gid() != null
                    ? " (the operator's gid attribute)"
                    : " (its fsGroup, 0 for none: the pod has no gid attribute)")
                + ": the members of an instance share one tmpfs with one group. Give every member"
                + " the same fsGroup (or runAsGroup); once the pods of the old group are gone, the"
                + " instance's tmpfs is mounted anew with the new group and this publish succeeds");
      }
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
      }
      instance
          .targets()
          .put(targetKey, new Target(volumeId, request.podName(), request.podUid(), readOnly));
      store.save(instances); // before the mounts it allows
      boolean published = false;
      boolean bound = false;
      try {
        if (!mounts.containsKey(dir.toString())) {
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
        // on the directory the walk found, never through a link put there since the check
        try (AtFiles.Directory at = targets.open(target)) {
          mounter.bind(dir, Path.of(at.fdPath()));
        }
        bound = true;
        if (readOnly) {
          remountReadOnly(target);
        }
        published = true;
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
        if (!published) {
          // Undo this call's own steps: its bind (the remount failed), its record, and the tmpfs
          // of a first publish, which nothing holds then and which must not outlive this call.
          if (bound) {
            mounter.unmount(target);
          }
          instance.targets().remove(targetKey);
          if (instance.targets().isEmpty()) {
            free(key, mounter.mountPoints(), "first publish failed");
            instances.remove(key);
          }
          store.save(instances);
        }
      }
    }
  }

  /**
   * The group of an instance's tmpfs as a publish asks it: the operator's gid attribute (the group
   * every member's processes hold, chosen once for all members), else the pod's fsGroup (pods
   * rendered before the attribute; 0 when it sets none).
   */
  static int tmpfsGid(VolumeRequest request, int fsGroup) {
    return request.gid() != null ? request.gid() : fsGroup;
  }

  /**
   * The state's record of {@code target}, null when it has none.
   *
   * @throws Conflict when it records another volume or instance there, or the other readonly flag
   */
  private Target recordedTarget(String key, String volumeId, Path target, boolean readOnly) {
    for (Map.Entry<String, Instance> e : instances.entrySet()) {
      Target existing = e.getValue().targets().get(target.toString());
      if (existing == null) {
        continue;
      }
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
      if (existing.readOnly() != readOnly) {
        throw new Conflict(
            "target "
                + target
                + " already publishes volume "
                + volumeId
                + (existing.readOnly() ? " read-only" : " read-write")
                + ", and this publish asks it"
                + (readOnly ? " read-only" : " read-write")
                + "; unpublish it first");
      }
      return existing;
    }
    return null;
  }

  /** Makes the bind mount at {@code target} read-only, on the directory a no-link walk opens. */
  private void remountReadOnly(Path target) throws IOException {
    try (AtFiles.Directory at = targets.open(target)) { // the bind mount's root
      mounter.remountReadOnly(Path.of(at.fdPath()));
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
