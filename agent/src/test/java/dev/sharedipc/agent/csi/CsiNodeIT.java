package dev.sharedipc.agent.csi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.agent.testing.Root;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CSI node plugin on the real kernel, as root, driven through its UNIX socket the way a kubelet
 * drives it for ephemeral inline volumes: the shaded jar runs as its own process (so it can be
 * SIGKILLed) with {@code --kubelet-root} a temporary directory, the test publishes member pods'
 * target paths where the kubelet puts them ({@code <kubelet root>/pods/<pod uid>/volumes/
 * kubernetes.io~csi/<volume name>/mount}) and reads and writes files through them; targets of any
 * other form, or reached through a symbolic link, are refused and nothing is touched. No API server
 * here: the membership check is CsiMembershipIT's.
 */
class CsiNodeIT {
  private static final long MIB = 1024 * 1024;
  private static final int FS_GROUP = 4242;

  @TempDir Path tmp;
  Path stateDir;
  Path socket;
  Path kubeletRoot;
  Path pods;
  String groupUid;
  DriverProcess driver;
  CsiClient client;

  @BeforeEach
  void setUp() throws Exception {
    Root.require();
    stateDir = tmp.resolve("state");
    socket = tmp.resolve("csi.sock");
    kubeletRoot = tmp.resolve("kubelet");
    pods = kubeletRoot.resolve("pods");
    groupUid = UUID.randomUUID().toString();
    startDriver();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (client != null) {
      client.close();
    }
    if (driver != null) {
      driver.close();
    }
    // A failed test must not leave mounts behind (nor let @TempDir's cleanup walk into them).
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
  void twoMembersOfOneInstanceShareOneSizedTmpfsOwnedByTheirFsGroup() throws Exception {
    Path a = target("pod-a");
    Path b = target("pod-b");
    client.publish("vol-a", a, FS_GROUP, attributes("pod-a", "8Mi"));
    client.publish("vol-b", b, FS_GROUP, attributes("pod-b", "8Mi"));

    Files.writeString(a.resolve("hello"), "written by pod-a");
    assertThat(Files.readString(b.resolve("hello"))).isEqualTo("written by pod-a");
    assertThat(((Integer) Files.getAttribute(b, "unix:mode")) & 07777).isEqualTo(02770);
    assertThat(Files.getAttribute(b, "unix:gid")).isEqualTo(FS_GROUP);
    assertThat(Files.getFileStore(a).getTotalSpace()).isEqualTo(8 * MIB);
    assertThat(Files.getFileStore(a).type()).isEqualTo("tmpfs");
  }

  @Test
  void theOperatorsGidOwnsTheTmpfsSoMembersWithoutFsGroupRunningAsThatGroupCanWrite()
      throws Exception {
    // runAsUser/runAsGroup 1000 in every member and no fsGroup: the operator renders gid 1000
    Path a = target("pod-a");
    Map<String, String> attributes = attributes("pod-a", "4Mi");
    attributes.put(VolumeRequest.GID, "1000");
    client.publish("vol-a", a, CsiClient.NO_FS_GROUP, attributes);

    assertThat(Files.getAttribute(a, "unix:gid")).isEqualTo(1000);
    Process write =
        new ProcessBuilder(
                "setpriv",
                "--reuid=1000",
                "--regid=1000",
                "--clear-groups",
                "--inh-caps=-all",
                "--bounding-set=-all",
                "sh",
                "-c",
                "echo written > by-1000")
            // started in the target as root: uid 1000 needs no search right on @TempDir's 0700
            .directory(a.toFile())
            .redirectErrorStream(true)
            .start();
    String output = new String(write.getInputStream().readAllBytes());
    assertThat(write.waitFor()).as("uid 1000 gid 1000 writes: %s", output).isZero();
    assertThat(Files.readString(a.resolve("by-1000"))).isEqualTo("written\n");
  }

  @Test
  void aMemberAskingAnotherGroupThanTheInstancesTmpfsIsRefusedNamingBoth() throws Exception {
    Path a = target("pod-a");
    Path b = target("pod-b");
    client.publish("vol-a", a, FS_GROUP, attributes("pod-a", "4Mi"));

    assertThatThrownBy(() -> client.publish("vol-b", b, 1000, attributes("pod-b", "4Mi")))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
              assertThat(e.getStatus().getDescription())
                  .contains("group " + FS_GROUP)
                  .contains("group 1000");
            });
    assertThat(mountCount(b)).as("nothing mounted for the refused member").isZero();
    assertThat(Files.getAttribute(a, "unix:gid")).isEqualTo(FS_GROUP);
  }

  @Test
  void aWritePastTheSizeFailsWithEnospc() throws Exception {
    Path a = target("pod-a");
    client.publish("vol-a", a, FS_GROUP, attributes("pod-a", "4Mi"));

    assertThatThrownBy(() -> write(a.resolve("big"), 5 * MIB))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("No space left on device");
  }

  @Test
  void publishAndUnpublishAreIdempotent() throws Exception {
    Path a = target("pod-a");
    client.publish("vol-a", a, FS_GROUP, attributes("pod-a", "4Mi"));
    client.publish("vol-a", a, FS_GROUP, attributes("pod-a", "4Mi"));
    assertThat(mountCount(a)).isEqualTo(1);

    client.unpublish("vol-a", a);
    client.unpublish("vol-a", a);
    assertThat(a).doesNotExist();
    assertThat(mountCount(a)).isZero();
  }

  @Test
  void aTargetPublishedForAnotherVolumeIsRefused() throws Exception {
    Path a = target("pod-a");
    client.publish("vol-a", a, FS_GROUP, attributes("pod-a", "4Mi"));

    assertThatThrownBy(() -> client.publish("vol-other", a, FS_GROUP, attributes("pod-a", "4Mi")))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS));
  }

  @Test
  void aRepublishWithAnotherReadOnlyFlagIsAlreadyExistsAndChangesNothing() throws Exception {
    Path a = target("pod-a");
    Path b = target("pod-b");
    client.publish("vol-a", a, FS_GROUP, attributes("pod-a", "4Mi"));
    client.publish("vol-b", b, FS_GROUP, attributes("pod-b", "4Mi"), true);

    assertThatThrownBy(() -> client.publish("vol-a", a, FS_GROUP, attributes("pod-a", "4Mi"), true))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);
              assertThat(e.getStatus().getDescription()).contains("read-write");
            });
    assertThatThrownBy(() -> client.publish("vol-b", b, FS_GROUP, attributes("pod-b", "4Mi")))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS));
    Files.writeString(a.resolve("still-writable"), "yes");
    assertThatThrownBy(() -> Files.writeString(b.resolve("still-read-only"), "no"))
        .isInstanceOf(IOException.class);
    assertThat(mountCount(a)).isEqualTo(1);
    assertThat(mountCount(b)).isEqualTo(1);
  }

  @Test
  void aPublishAtATargetThatShowsAMountOfSomethingElseIsRefusedAndTheMountStays() throws Exception {
    Path a = target("pod-a");
    Files.createDirectories(a);
    Path source = Files.createDirectories(tmp.resolve("foreign-source"));
    Files.writeString(source.resolve("foreign"), "not the instance's");
    new LinuxMounter().bind(source, a);

    assertThatThrownBy(() -> client.publish("vol-a", a, FS_GROUP, attributes("pod-a", "4Mi")))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
              assertThat(e.getStatus().getDescription()).contains("already shows");
            });
    assertThat(mountCount(a)).as("the foreign mount stays, nothing over it").isEqualTo(1);
    assertThat(Files.readString(a.resolve("foreign"))).isEqualTo("not the instance's");
    assertThat(mountCount(instanceDir())).as("no tmpfs left behind").isZero();
    assertThat(Files.readString(stateDir.resolve("state.json"))).doesNotContain(groupUid);
  }

  @Test
  void attributesThatNameNoInstanceAreInvalid() throws Exception {
    Map<String, String> forged = attributes("pod-a", "4Mi");
    forged.put(VolumeRequest.GROUP_UID, "not-a-uid");

    assertThatThrownBy(() -> client.publish("vol-a", target("pod-a"), FS_GROUP, forged))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    assertThat(new LinuxMounter().mountPoints()).noneMatch(p -> p.startsWith(tmp.toString()));
  }

  @Test
  void theLastUnpublishUnmountsTheTmpfsAndTheNodeGetsItsMemoryBack() throws Exception {
    Path a = target("pod-a");
    Path b = target("pod-b");
    client.publish("vol-a", a, FS_GROUP, attributes("pod-a", "64Mi"));
    client.publish("vol-b", b, FS_GROUP, attributes("pod-b", "64Mi"));
    Path instance = instanceDir();
    write(a.resolve("data"), 48 * MIB);

    client.unpublish("vol-a", a);
    assertThat(Files.readAllBytes(b.resolve("data"))).hasSize((int) (48 * MIB));
    assertThat(mountCount(instance)).isEqualTo(1);
    long shmemHeld = shmemBytes();

    client.unpublish("vol-b", b);
    assertThat(mountCount(instance)).isZero();
    assertThat(mountCount(b)).isZero();
    assertThat(instance).doesNotExist();
    assertThat(b).doesNotExist();
    // Other processes on the machine move Shmem too: wait, bounded, for the drop of most of the 48
    // MiB.
    await("Shmem drops by the freed tmpfs")
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> shmemHeld - shmemBytes() >= 40 * MIB);
  }

  @Test
  void aDriverKilledAndRestartedBetweenPublishesKeepsTheVolume() throws Exception {
    Path a = target("pod-a");
    client.publish("vol-a", a, FS_GROUP, attributes("pod-a", "8Mi"));
    Files.writeString(a.resolve("before-crash"), "kept");

    client.close();
    driver.kill();
    startDriver();

    Path b = target("pod-b");
    client.publish("vol-b", b, FS_GROUP, attributes("pod-b", "8Mi"));
    assertThat(Files.readString(b.resolve("before-crash"))).isEqualTo("kept");
    assertThat(mountCount(instanceDir())).isEqualTo(1);

    client.unpublish("vol-a", a);
    client.unpublish("vol-b", b);
    assertThat(mountCount(instanceDir())).isZero();
  }

  @Test
  void aVolumeWhoseTargetsWentAwayWhileTheDriverWasDownIsFreedAtStart() throws Exception {
    Path a = target("pod-a");
    client.publish("vol-a", a, FS_GROUP, attributes("pod-a", "8Mi"));
    Path instance = instanceDir();
    client.close();
    driver.kill();
    new LinuxMounter().unmount(a); // the pod's mount is gone (node rebooted, or unmounted by hand)

    startDriver();

    assertThat(mountCount(instance)).isZero();
    assertThat(instance).doesNotExist();
    assertThat(Files.readString(stateDir.resolve("state.json"))).doesNotContain(groupUid);
  }

  @Test
  void aLargerSizeIsAppliedInPlaceOnTheNextPublish() throws Exception {
    Path a = target("pod-a");
    client.publish("vol-a", a, FS_GROUP, attributes("pod-a", "4Mi"));
    Files.writeString(a.resolve("kept"), "across the resize");

    Path b = target("pod-b");
    client.publish("vol-b", b, FS_GROUP, attributes("pod-b", "16Mi"));

    assertThat(Files.getFileStore(a).getTotalSpace()).isEqualTo(16 * MIB);
    assertThat(Files.readString(b.resolve("kept"))).isEqualTo("across the resize");
    write(b.resolve("big"), 8 * MIB);
  }

  @Test
  void aReadOnlyPublishRefusesWritesThroughItAndOnlyThere() throws Exception {
    Path a = target("pod-a");
    Path b = target("pod-b");
    client.publish("vol-a", a, FS_GROUP, attributes("pod-a", "4Mi"));
    client.publish("vol-b", b, FS_GROUP, attributes("pod-b", "4Mi"), true);

    Files.writeString(a.resolve("from-a"), "written");
    assertThat(Files.readString(b.resolve("from-a"))).isEqualTo("written");
    assertThatThrownBy(() -> Files.writeString(b.resolve("from-b"), "refused"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("Read-only file system");
    // the read-only remount is the bind mount's alone: the kubelet's directory above stays writable
    Files.writeString(b.getParent().resolve("vol_data.json"), "{}");
  }

  @Test
  void aTargetOutsideTheKubeletsPodsDirectoryIsInvalidAndNothingIsMounted() throws Exception {
    Path elsewhere = Files.createDirectories(tmp.resolve("elsewhere/mount"));
    Path otherPlugin =
        Files.createDirectories(
                pods.resolve(podUid("pod-a")).resolve("volumes/kubernetes.io~empty-dir/shm"))
            .resolve("mount");
    Path climbing = Path.of(target("pod-a") + "/../../../../../../../elsewhere/mount");
    Path anotherPods = target("pod-b");

    for (Path bad : List.of(elsewhere, otherPlugin, climbing, stateDir, anotherPods)) {
      assertThatThrownBy(() -> client.publish("vol-a", bad, FS_GROUP, attributes("pod-a", "4Mi")))
          .as("publish at %s", bad)
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                assertThat(e.getStatus().getDescription()).contains("target_path");
              });
    }
    assertThat(new LinuxMounter().mountPoints())
        .as("nothing mounted for a refused target")
        .noneMatch(p -> p.startsWith(tmp.toString()));
    assertThat(anotherPods).as("not even made").doesNotExist();
  }

  @Test
  void aTargetReachedThroughASymbolicLinkIsInvalidAndNothingIsMounted() throws Exception {
    Path elsewhere = Files.createDirectories(tmp.resolve("elsewhere"));
    // the volume's directory a link to a directory of the host's
    Path volumes =
        Files.createDirectories(pods.resolve(podUid("pod-a")).resolve("volumes/kubernetes.io~csi"));
    Files.createSymbolicLink(volumes.resolve("shm"), elsewhere);
    // the target itself a link
    Path parentB =
        Files.createDirectories(
            pods.resolve(podUid("pod-b")).resolve("volumes/kubernetes.io~csi/shm"));
    Files.createSymbolicLink(parentB.resolve("mount"), elsewhere);

    assertThatThrownBy(
            () ->
                client.publish(
                    "vol-a", volumes.resolve("shm/mount"), FS_GROUP, attributes("pod-a", "4Mi")))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    assertThatThrownBy(
            () ->
                client.publish(
                    "vol-b", parentB.resolve("mount"), FS_GROUP, attributes("pod-b", "4Mi")))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    assertThat(new LinuxMounter().mountPoints()).noneMatch(p -> p.startsWith(tmp.toString()));
    try (var left = Files.list(elsewhere)) {
      assertThat(left).as("nothing made through the links").isEmpty();
    }
  }

  @Test
  void unpublishOfATargetItNeverPublishedSucceedsAndTouchesNothing() throws Exception {
    // a regular file where a target would be, a mount of something else at another, the state
    // file, and a path outside the kubelet's pods directory
    Path file = target("pod-a");
    Files.writeString(file, "not a volume of this driver");
    Path foreign = target("pod-b");
    Files.createDirectories(foreign);
    Path source = Files.createDirectories(tmp.resolve("foreign-source"));
    new LinuxMounter().bind(source, foreign);
    Path state = stateDir.resolve("state.json");
    client.publish("vol-c", target("pod-c"), FS_GROUP, attributes("pod-c", "4Mi"));
    String stateBefore = Files.readString(state);

    client.unpublish("vol-a", file);
    client.unpublish("vol-b", foreign);
    client.unpublish("vol-c", state);
    client.unpublish("vol-x", tmp.resolve("elsewhere"));

    assertThat(Files.readString(file)).isEqualTo("not a volume of this driver");
    assertThat(mountCount(foreign)).as("a mount this driver did not make stays").isEqualTo(1);
    assertThat(Files.readString(state)).isEqualTo(stateBefore);
    assertThat(mountCount(target("pod-c"))).as("the published volume stays").isEqualTo(1);
  }

  private void startDriver() throws Exception {
    driver =
        new DriverProcess(
            socket, stateDir, tmp.resolve("driver.log"), "--kubelet-root", kubeletRoot.toString());
    client = new CsiClient(socket);
  }

  private Map<String, String> attributes(String pod, String size) {
    return CsiClient.attributes("ns-it", "grp", groupUid, 0, size, pod, podUid(pod));
  }

  private Path target(String pod) throws IOException {
    // The kubelet makes the parent; the plugin makes the target itself.
    Path parent =
        Files.createDirectories(pods.resolve(podUid(pod)).resolve("volumes/kubernetes.io~csi/shm"));
    return parent.resolve("mount");
  }

  private static String podUid(String pod) {
    return UUID.nameUUIDFromBytes(pod.getBytes()).toString();
  }

  private Path instanceDir() {
    return stateDir.toAbsolutePath().resolve("instances").resolve("ns-it_grp_" + groupUid + "_0");
  }

  private static long mountCount(Path path) throws IOException {
    return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
        .map(l -> l.split(" ")[4])
        .filter(p -> p.equals(path.toString()))
        .count();
  }

  private static void write(Path file, long bytes) throws IOException {
    ByteBuffer chunk = ByteBuffer.allocate((int) MIB);
    try (FileChannel out =
        FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      for (long done = 0; done < bytes; done += MIB) {
        chunk.clear();
        while (chunk.hasRemaining()) {
          out.write(chunk);
        }
      }
    }
  }

  private static long shmemBytes() throws IOException {
    return Files.readAllLines(Path.of("/proc/meminfo")).stream()
        .filter(l -> l.startsWith("Shmem:"))
        .map(l -> Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024)
        .findFirst()
        .orElseThrow();
  }
}
