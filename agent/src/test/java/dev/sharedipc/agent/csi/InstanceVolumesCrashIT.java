package dev.sharedipc.agent.csi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.agent.scan.SharedDirName;
import dev.sharedipc.agent.testing.Root;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A driver that dies between two steps of a publish, on the real kernel: {@link CrashAfterBind}
 * makes the real bind mount at the target and then stops the publishing thread for good, so nothing
 * after the bind runs (no state save, no finally), as with a SIGKILL at that instant. The test then
 * starts a new {@link InstanceVolumes} on the same state directory and the same mounts, as a
 * restarted {@code sharedipc-agent csi} does ({@link CsiDriver#run}: construct, {@code recover()}),
 * and retries the publish as the kubelet does. The instance must stay one tmpfs: the retried target
 * and every later member see the same superblock.
 */
class InstanceVolumesCrashIT {
  private static final int GID = 4242;

  @TempDir Path tmp;
  Path stateDir;
  KubeletTargets targets;
  String groupUid;

  @BeforeEach
  void setUp() throws IOException {
    Root.require();
    stateDir = tmp.resolve("state");
    targets = new KubeletTargets(tmp.resolve("kubelet"));
    groupUid = UUID.randomUUID().toString();
  }

  @AfterEach
  void tearDown() throws IOException {
    LinuxMounter mounter = new LinuxMounter();
    List<String> left =
        mounter.mountPoints().stream()
            .filter(p -> p.startsWith(tmp.toString()))
            .sorted(Comparator.comparing(String::length).reversed())
            .toList();
    for (String p : left) {
      mounter.unmount(Path.of(p));
    }
  }

  @Test
  void aCrashAfterTheFirstBindLeavesOneTmpfsForTheRetryAndTheNextMember() throws Exception {
    Path a = target("pod-a");
    crashAfterBind("vol-a", a, false);

    InstanceVolumes restarted = restart();
    restarted.publish("vol-a", a, false, GID, request("pod-a"));
    Path b = target("pod-b");
    restarted.publish("vol-b", b, false, GID, request("pod-b"));

    Files.writeString(a.resolve("from-a"), "one memory");
    assertThat(Files.readString(b.resolve("from-a"))).isEqualTo("one memory");
    Path instance = restarted.instanceDir(name());
    assertThat(device(a)).isEqualTo(device(instance)).isEqualTo(device(b));
    assertThat(mountCount(a)).as("the retry binds nothing over the first bind").isEqualTo(1);
  }

  @Test
  void aCrashBeforeTheReadOnlyRemountIsFinishedByTheRetry() throws Exception {
    Path a = target("pod-a");
    crashAfterBind("vol-a", a, true);

    restart().publish("vol-a", a, true, GID, request("pod-a"));

    assertThat(readOnly(a)).as("target %s mounted read-only", a).isTrue();
  }

  /** Publishes at {@code target} with a driver that stops for good right after the bind. */
  private void crashAfterBind(String volumeId, Path target, boolean readOnly) throws Exception {
    CrashAfterBind mounter = new CrashAfterBind();
    InstanceVolumes volumes = new InstanceVolumes(stateDir, targets, mounter, Membership.ANYONE);
    volumes.recover();
    Thread publisher =
        new Thread(
            () -> {
              try {
                volumes.publish(volumeId, target, readOnly, GID, request(podOf(target)));
              } catch (IOException e) {
                throw new IllegalStateException(e);
              }
            },
            "publish-that-crashes");
    publisher.setDaemon(true);
    publisher.start();
    assertThat(mounter.bound.await(30, TimeUnit.SECONDS)).as("the bind happened").isTrue();
    assertThat(mountCount(target)).isEqualTo(1);
  }

  /** A new driver on the same state directory and the same mounts, as after a restart. */
  private InstanceVolumes restart() throws IOException {
    InstanceVolumes volumes =
        new InstanceVolumes(stateDir, targets, new LinuxMounter(), Membership.ANYONE);
    volumes.recover();
    return volumes;
  }

  /**
   * The real mounts; after the first bind at a target the calling thread never returns (the
   * driver's process died there).
   */
  static final class CrashAfterBind implements Mounter {
    final LinuxMounter real = new LinuxMounter();
    final CountDownLatch bound = new CountDownLatch(1);

    @Override
    public void mountTmpfs(Path dir, long sizeBytes, int gid) throws IOException {
      real.mountTmpfs(dir, sizeBytes, gid);
    }

    @Override
    public void resizeTmpfs(Path dir, long sizeBytes) throws IOException {
      real.resizeTmpfs(dir, sizeBytes);
    }

    @Override
    public void bind(Path source, Path target) throws IOException {
      real.bind(source, target);
      bound.countDown();
      while (true) { // dead: this driver takes no further step
        try {
          Thread.sleep(Long.MAX_VALUE);
        } catch (InterruptedException e) {
          // still dead
        }
      }
    }

    @Override
    public void remountReadOnly(Path target) throws IOException {
      real.remountReadOnly(target);
    }

    @Override
    public void unmount(Path dir) throws IOException {
      real.unmount(dir);
    }

    @Override
    public Map<String, MountTable.Mount> mounts() throws IOException {
      return real.mounts();
    }
  }

  private VolumeRequest request(String pod) {
    return VolumeRequest.parse(
        CsiClient.attributes("ns-it", "grp", groupUid, 0, "8Mi", pod, podUid(pod)));
  }

  private SharedDirName name() {
    return request("pod-a").instance();
  }

  private Path target(String pod) throws IOException {
    return Files.createDirectories(
            targets.podsDirectory().resolve(podUid(pod)).resolve("volumes/kubernetes.io~csi/shm"))
        .resolve("mount");
  }

  private static String podOf(Path target) {
    for (String pod : List.of("pod-a", "pod-b")) {
      if (target.toString().contains(podUid(pod))) {
        return pod;
      }
    }
    throw new IllegalArgumentException(target.toString());
  }

  private static String podUid(String pod) {
    return UUID.nameUUIDFromBytes(pod.getBytes()).toString();
  }

  /** The mountinfo lines of the mount on top at {@code path}: [device, options]. */
  private static String[] top(Path path) throws IOException {
    String[] found = null;
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String[] f = line.split(" ");
      if (f[4].equals(path.toString())) {
        found = new String[] {f[2], f[5]};
      }
    }
    assertThat(found).as("a mount at %s", path).isNotNull();
    return found;
  }

  private static String device(Path path) throws IOException {
    return top(path)[0];
  }

  private static boolean readOnly(Path path) throws IOException {
    return List.of(top(path)[1].split(",")).contains("ro");
  }

  private static long mountCount(Path path) throws IOException {
    return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
        .map(l -> l.split(" ")[4])
        .filter(p -> p.equals(path.toString()))
        .count();
  }
}
