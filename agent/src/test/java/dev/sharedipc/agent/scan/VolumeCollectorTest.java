package dev.sharedipc.agent.scan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.agent.kernel.FsUsage;
import dev.sharedipc.agent.testing.FakeKernel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Memory volumes over fixture trees and an in-memory kernel whose filesystems carry device numbers.
 */
class VolumeCollectorTest {
  static final String POD = "aaaaaaaa-0000-4000-8000-000000000001";
  static final String OTHER_POD = "bbbbbbbb-0000-4000-8000-000000000002";
  static final long MiB = 1 << 20;

  @TempDir Path tmp;
  Path proc;
  Path kubelet;
  Path shared;
  final FakeKernel kernel = new FakeKernel();
  final List<String> problems = new ArrayList<>();

  @BeforeEach
  void roots() throws Exception {
    proc = Files.createDirectory(tmp.resolve("proc"));
    kubelet = Files.createDirectory(tmp.resolve("kubelet"));
    shared = tmp.resolve("shared");
  }

  static FsUsage tmpfs(long device, long used) {
    return new FsUsage(FsUsage.TMPFS_MAGIC, 64 * MiB, used, 64 * MiB - used, device);
  }

  Path emptyDir(String pod, String name, FsUsage fs) throws Exception {
    Path dir =
        Files.createDirectories(
            kubelet.resolve("pods/" + pod + "/volumes/kubernetes.io~empty-dir/" + name));
    kernel.filesystems.put(dir, fs);
    return dir;
  }

  /** A process of a pod: its command line, its mount namespace, and what its /dev/shm is. */
  Path process(int pid, String argv0, String mountNs, FsUsage devShm) throws Exception {
    Path dir = Files.createDirectories(proc.resolve(Integer.toString(pid)));
    Files.write(dir.resolve("cmdline"), (argv0 + "\0--flag\0").getBytes(StandardCharsets.UTF_8));
    Files.createDirectories(dir.resolve("ns"));
    Files.createSymbolicLink(dir.resolve("ns/mnt"), Path.of("mnt:[" + mountNs + "]"));
    Path shm = dir.resolve("root/dev/shm");
    kernel.filesystems.put(shm, devShm);
    return shm;
  }

  List<MemoryVolume> collect(Map<String, List<Integer>> podPids) {
    return new VolumeCollector(kernel, kubelet, proc, shared).collect(podPids, problems);
  }

  @Test
  void anEmptyDirMountedAtDevShmIsCountedOnceAsTheEmptyDir() throws Exception {
    emptyDir(POD, "shm", tmpfs(7, 5 * MiB));
    process(
        101,
        "/usr/bin/python3",
        "1",
        tmpfs(7, 5 * MiB)); // the member sees the emptyDir at /dev/shm

    List<MemoryVolume> volumes = collect(Map.of(POD, List.of(101)));

    assertThat(volumes)
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.kind()).isEqualTo(MemoryVolume.Kind.EmptyDir);
              assertThat(v.name()).isEqualTo("shm");
              assertThat(v.usedBytes()).isEqualTo(5 * MiB);
            });
  }

  @Test
  void devShmIsReadFromMembersNotFromThePauseProcess() throws Exception {
    process(100, "/pause", "1", tmpfs(8, 0)); // the sandbox's own /dev/shm
    Path member = process(101, "/app/server", "2", tmpfs(9, 3 * MiB));
    process(102, "/app/server", "2", tmpfs(9, 3 * MiB)); // a second process of the same container
    process(
        103, "/app/sidecar", "3", tmpfs(9, 3 * MiB)); // another container, same tmpfs at /dev/shm

    List<MemoryVolume> volumes = collect(Map.of(POD, List.of(100, 101, 102, 103)));

    assertThat(volumes)
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.kind()).isEqualTo(MemoryVolume.Kind.DevShm);
              assertThat(v.podUid()).isEqualTo(POD);
              assertThat(v.path()).isEqualTo(member.toString());
              assertThat(v.usedBytes()).isEqualTo(3 * MiB);
            });
  }

  @Test
  void containersWithDifferentDevShmAreEachCounted() throws Exception {
    process(100, "pause", "1", tmpfs(8, 0));
    process(101, "/app/a", "2", tmpfs(9, 3 * MiB));
    process(102, "/app/b", "3", tmpfs(10, 1 * MiB));

    assertThat(collect(Map.of(POD, List.of(100, 101, 102))))
        .extracting(MemoryVolume::usedBytes)
        .containsExactlyInAnyOrder(3 * MiB, 1 * MiB);
  }

  @Test
  void aPodWithOnlyItsPauseProcessLeftShowsTheSandboxDevShm() throws Exception {
    process(100, "/pause", "1", tmpfs(8, 2 * MiB));

    assertThat(collect(Map.of(POD, List.of(100))))
        .singleElement()
        .satisfies(v -> assertThat(v.usedBytes()).isEqualTo(2 * MiB));
  }

  @Test
  void oneTmpfsSharedByTwoPodsIsCountedOnce() throws Exception {
    process(101, "/app/writer", "1", tmpfs(9, 3 * MiB));
    process(201, "/app/reader", "2", tmpfs(9, 3 * MiB));

    assertThat(collect(Map.of(POD, List.of(101), OTHER_POD, List.of(201))))
        .singleElement()
        .satisfies(
            v ->
                assertThat(v.podUid())
                    .as("the first pod by UID, every scan the same")
                    .isEqualTo(POD));
  }

  @Test
  void aDevShmThatIsASharedDirectoryIsCountedOnlyAsTheSharedDirectory() throws Exception {
    Path dir = Files.createDirectories(shared.resolve("team_g_0"));
    Files.write(dir.resolve("data"), new byte[4096]);
    kernel.filesystems.put(shared, tmpfs(11, 10 * MiB));
    kernel.filesystems.put(dir, tmpfs(11, 10 * MiB));
    process(
        101,
        "/app/writer",
        "1",
        tmpfs(11, 10 * MiB)); // hostPath bind of team_g_0 at /dev/shm: the whole host tmpfs

    assertThat(collect(Map.of(POD, List.of(101))))
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.kind()).isEqualTo(MemoryVolume.Kind.NodeShared);
              assertThat(v.usedBytes()).isEqualTo(4096);
            });
  }

  @Test
  void filesystemsOfUnknownDeviceAreNeverMerged() throws Exception {
    emptyDir(POD, "a", new FsUsage(FsUsage.TMPFS_MAGIC, MiB, 1, MiB - 1));
    emptyDir(POD, "b", new FsUsage(FsUsage.TMPFS_MAGIC, MiB, 2, MiB - 2));

    assertThat(collect(Map.of())).hasSize(2);
  }
}
