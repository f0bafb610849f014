package dev.sharedipc.agent.scan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.agent.reap.Action;
import dev.sharedipc.agent.reap.PosixObjectReaper;
import dev.sharedipc.agent.scan.PosixObject.FileKind;
import dev.sharedipc.agent.testing.ReadableProc;
import dev.sharedipc.agent.testing.Root;
import dev.sharedipc.agent.verdict.Policy;
import dev.sharedipc.agent.verdict.PosixObjectJudge;
import dev.sharedipc.agent.verdict.PosixObjectJudgement;
import dev.sharedipc.agent.verdict.PosixObjectVerdict;
import dev.sharedipc.api.v1alpha1.OrphanPolicy;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * POSIX shared-memory objects on the real kernel, as root: a real tmpfs (a pod's memory volume)
 * holding one file mapped by a live process (its fd closed), one held open, one just written, one
 * orphaned (not modified for an hour), a sparse file, and a symbolic link leading out of the
 * volume. The collector lists each as lstat sees it, the users index finds the mapper and the
 * holder through /proc by device and inode, the verdict under Delete with a one-minute grace
 * condemns exactly the idle unused files, and the reaper removes them (and nothing in a dry run),
 * re-checking every fact just before unlinking through directory descriptors that follow no link.
 */
class PosixObjectsIT {
  @TempDir Path tmp;
  Path volume;
  final List<Process> started = new ArrayList<>();

  @BeforeEach
  void tmpfs() throws Exception {
    Root.require();
    Root.requireTool("mount");
    Root.requireTool("umount");
    Root.requireTool("python3");
    volume = Files.createDirectory(tmp.resolve("shm"));
    run("mount", "-t", "tmpfs", "-o", "size=16m", "sharedipc-posix-it", volume.toString());
  }

  @AfterEach
  void cleanUp() throws Exception {
    for (Process p : started) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
    if (volume != null
        && Files.readString(Path.of("/proc/self/mountinfo"))
            .contains(" " + volume.toRealPath() + " ")) {
      run("umount", volume.toString());
    }
  }

  @Test
  void fourObjectsInAPodVolumeAreToldApartAndOnlyTheOrphanIsRemovable() throws Exception {
    Instant now = Instant.now();
    Path mapped = write("torch_1234_0", 64 * 1024);
    Path held = write("PostgreSQL.1804289383", 8 * 1024);
    Path fresh = write("nccl-ring-0", 4096);
    Path orphan = write("vllm-leaked", 128 * 1024);
    Files.setLastModifiedTime(orphan, FileTime.from(now.minus(Duration.ofHours(1))));
    Files.setLastModifiedTime(mapped, FileTime.from(now.minus(Duration.ofHours(1))));
    Files.setLastModifiedTime(held, FileTime.from(now.minus(Duration.ofHours(1))));
    Path sparse = volume.resolve("sparse");
    run("truncate", "-s", "8M", sparse.toString());
    Files.setLastModifiedTime(sparse, FileTime.from(now.minus(Duration.ofHours(1))));
    Path outside = Files.writeString(tmp.resolve("precious"), "must survive");
    Files.createSymbolicLink(volume.resolve("link-out"), outside);

    // libc's mmap, then close: Python's own mmap module keeps a dup of the descriptor open.
    Process mapper =
        start(
            "python3",
            "-c",
            "import ctypes,os,sys,time\n"
                + "libc=ctypes.CDLL(None); libc.mmap.restype=ctypes.c_void_p\n"
                + "libc.mmap.argtypes=[ctypes.c_void_p,ctypes.c_size_t,ctypes.c_int,ctypes.c_int,ctypes.c_int,ctypes.c_long]\n"
                + "fd=os.open(sys.argv[1],os.O_RDWR); addr=libc.mmap(None,65536,3,1,fd,0); os.close(fd)\n"
                + "assert addr not in (None, ctypes.c_void_p(-1).value)\n"
                + "print('ready',flush=True); time.sleep(600)",
            mapped.toString());
    Process holder =
        start("sh", "-c", "exec 3<\"$0\"; echo ready; exec sleep 600", held.toString());

    MemoryVolume v =
        new MemoryVolume(
            MemoryVolume.Kind.EmptyDir, "shm", volume.toString(), "pod-uid-1", 16 << 20, 0);
    List<String> problems = new ArrayList<>();
    Map<String, PosixObject> objects =
        PosixObjectCollector.collect(List.of(v), problems).stream()
            .collect(Collectors.toMap(PosixObject::name, o -> o));
    assertThat(problems).isEmpty();
    assertThat(objects.keySet())
        .containsExactlyInAnyOrder(
            "torch_1234_0",
            "PostgreSQL.1804289383",
            "nccl-ring-0",
            "vllm-leaked",
            "sparse",
            "link-out");
    assertThat(objects.get("link-out").kind()).isEqualTo(FileKind.SymbolicLink);
    assertThat(objects.get("vllm-leaked").apparentBytes()).isEqualTo(128 * 1024);
    assertThat(objects.get("vllm-leaked").allocatedBytes()).isEqualTo(128 * 1024);
    assertThat(objects.get("sparse").apparentBytes()).isEqualTo(8 << 20);
    assertThat(objects.get("sparse").allocatedBytes()).as("a sparse file costs no memory").isZero();

    Path procView = ReadableProc.view(tmp);
    FileUsersIndex index =
        FileUsersIndex.read(
            List.of(procView),
            objects.values().stream().map(PosixObject::id).collect(Collectors.toSet()));
    assertThat(index.unknown()).isNull();
    // the pass's own read: the listing and two /proc readers at once find the same objects and
    // users
    PosixScan pass = PosixScan.read(List.of(v), List.of(procView), List.of(), new ArrayList<>());
    assertThat(pass.users().unknown()).isNull();
    assertThat(pass.objects())
        .extracting(PosixObject::name)
        .containsExactlyInAnyOrderElementsOf(objects.keySet());
    objects
        .values()
        .forEach(
            o ->
                assertThat(pass.users().users(o.id())).as(o.name()).isEqualTo(index.users(o.id())));
    assertThat(index.users(objects.get("torch_1234_0").id()).mapped())
        .containsExactly((int) mapper.pid());
    assertThat(index.users(objects.get("torch_1234_0").id()).open()).isEmpty();
    assertThat(index.users(objects.get("PostgreSQL.1804289383").id()).open())
        .containsExactly((int) holder.pid());
    assertThat(index.users(objects.get("vllm-leaked").id()).all()).isEmpty();

    Policy delete = new Policy(OrphanPolicy.Delete, Duration.ofMinutes(1), "group team/g");
    Map<String, PosixObjectVerdict> verdicts =
        objects.values().stream()
            .collect(
                Collectors.toMap(
                    PosixObject::name,
                    o ->
                        PosixObjectJudge.judge(
                                new PosixObjectJudge.Observed(
                                    o.path(), o.kind(), false, 1, o.mtimeEpochSecond()),
                                index.users(o.id()).all(),
                                delete,
                                false,
                                now)
                            .verdict()));
    assertThat(verdicts)
        .containsEntry("torch_1234_0", PosixObjectVerdict.InUse)
        .containsEntry("PostgreSQL.1804289383", PosixObjectVerdict.InUse)
        .containsEntry("nccl-ring-0", PosixObjectVerdict.WithinGrace)
        .containsEntry("vllm-leaked", PosixObjectVerdict.Remove)
        .containsEntry("sparse", PosixObjectVerdict.Remove)
        .containsEntry("link-out", PosixObjectVerdict.NotRegular);
    assertThat(fresh).exists();
    assertThat(outside).hasContent("must survive");

    // The reaper: a dry run removes nothing; then exactly the two idle, unused files go.
    BiFunction<PosixObject, Set<Integer>, PosixObjectJudgement> judge =
        (o, users) ->
            PosixObjectJudge.judge(
                new PosixObjectJudge.Observed(o.path(), o.kind(), false, 1, o.mtimeEpochSecond()),
                users,
                delete,
                false,
                now);
    List<PosixObjectReaper.Decision> judged =
        objects.values().stream()
            .map(
                o ->
                    new PosixObjectReaper.Decision(
                        o, judge.apply(o, index.users(o.id()).all()), null, null))
            .toList();
    Map<String, Action> dry =
        actions(new PosixObjectReaper(List.of(ReadableProc.view(tmp)), true).reap(judged, judge));
    assertThat(dry)
        .containsEntry("vllm-leaked", Action.WouldRemove)
        .containsEntry("sparse", Action.WouldRemove);
    assertThat(orphan).exists();

    Map<String, Action> acted =
        actions(new PosixObjectReaper(List.of(ReadableProc.view(tmp)), false).reap(judged, judge));
    assertThat(acted)
        .containsEntry("vllm-leaked", Action.Removed)
        .containsEntry("sparse", Action.Removed)
        .containsEntry("torch_1234_0", Action.Kept)
        .containsEntry("PostgreSQL.1804289383", Action.Kept)
        .containsEntry("nccl-ring-0", Action.Kept)
        .containsEntry("link-out", Action.Kept);
    assertThat(orphan).doesNotExist();
    assertThat(sparse).doesNotExist();
    assertThat(List.of(mapped, held, fresh)).allSatisfy(p -> assertThat(p).exists());
    assertThat(outside).hasContent("must survive");
  }

  @Test
  void everyFactIsCheckedAgainJustBeforeUnlinking() throws Exception {
    Instant now = Instant.now();
    Instant hourAgo = now.minus(Duration.ofHours(1));
    Path rewritten = write("rewritten", 4096);
    Path opened = write("opened-meanwhile", 4096);
    Files.createDirectories(volume.resolve("sub"));
    Path inSub = write("sub/inner", 4096);
    Path outsideDir = Files.createDirectory(tmp.resolve("outside-dir"));
    Path decoy = Files.writeString(outsideDir.resolve("inner"), "must survive");
    for (Path p : List.of(rewritten, opened, inSub)) {
      Files.setLastModifiedTime(p, FileTime.from(hourAgo));
    }
    MemoryVolume v =
        new MemoryVolume(
            MemoryVolume.Kind.EmptyDir, "shm", volume.toString(), "pod-uid-4", 16 << 20, 0);
    Policy delete = new Policy(OrphanPolicy.Delete, Duration.ofMinutes(1), "group team/g");
    BiFunction<PosixObject, Set<Integer>, PosixObjectJudgement> judge =
        (o, users) ->
            PosixObjectJudge.judge(
                new PosixObjectJudge.Observed(o.path(), o.kind(), false, 1, o.mtimeEpochSecond()),
                users,
                delete,
                false,
                now);
    List<PosixObjectReaper.Decision> judged =
        PosixObjectCollector.collect(List.of(v), new ArrayList<>()).stream()
            .map(o -> new PosixObjectReaper.Decision(o, judge.apply(o, Set.of()), null, null))
            .toList();
    assertThat(judged)
        .allSatisfy(d -> assertThat(d.judgement().verdict()).isEqualTo(PosixObjectVerdict.Remove));

    // Between judgement and removal: one file is written, one is opened, and the directory of the
    // third is swapped for a link to a directory outside the volume holding a file of the same
    // name.
    Files.writeString(rewritten, "new data");
    Files.setLastModifiedTime(
        rewritten, FileTime.from(hourAgo)); // same mtime again: ctime still tells
    start("sh", "-c", "exec 3<\"$0\"; echo ready; exec sleep 600", opened.toString());
    Files.delete(inSub);
    Files.delete(volume.resolve("sub"));
    Files.createSymbolicLink(volume.resolve("sub"), outsideDir);

    Map<String, PosixObjectReaper.Decision> done =
        new PosixObjectReaper(List.of(ReadableProc.view(tmp)), false)
            .reap(judged, judge).stream().collect(Collectors.toMap(d -> d.object().name(), d -> d));
    assertThat(done.get("rewritten").action())
        .as(done.get("rewritten").audit())
        .isEqualTo(Action.Spared);
    assertThat(done.get("rewritten").detail()).contains("ctime");
    assertThat(done.get("opened-meanwhile").action())
        .as(done.get("opened-meanwhile").audit())
        .isEqualTo(Action.Spared);
    assertThat(done.get("opened-meanwhile").judgement().verdict())
        .isEqualTo(PosixObjectVerdict.InUse);
    assertThat(done.get("sub/inner").action())
        .as(done.get("sub/inner").audit())
        .isIn(Action.Spared, Action.Failed);
    assertThat(rewritten).exists();
    assertThat(opened).exists();
    assertThat(decoy).hasContent("must survive");
  }

  private static Map<String, Action> actions(List<PosixObjectReaper.Decision> decisions) {
    return decisions.stream()
        .collect(Collectors.toMap(d -> d.object().name(), PosixObjectReaper.Decision::action));
  }

  @Test
  void aProcessThatCannotBeReadMakesEveryUserUnknown() throws Exception {
    List<String> unreadable = ReadableProc.unreadablePids();
    org.junit.jupiter.api.Assumptions.assumeFalse(
        unreadable.isEmpty(), "every process of this host is readable");
    Path file = write("x", 4096);
    MemoryVolume v =
        new MemoryVolume(
            MemoryVolume.Kind.EmptyDir, "shm", volume.toString(), "pod-uid-3", 16 << 20, 0);
    PosixObject o = PosixObjectCollector.collect(List.of(v), new ArrayList<>()).get(0);
    FileUsersIndex index = FileUsersIndex.read(List.of(Path.of("/proc")), Set.of(o.id()));
    assertThat(index.unknown()).contains("pid " + unreadable.get(0));
    assertThat(index.users(o.id())).isNull();
    assertThat(file).exists();
  }

  @Test
  void aMountInsideAVolumeIsNotWalked() throws Exception {
    write("top", 4096);
    Path inner = Files.createDirectory(volume.resolve("inner"));
    run("mount", "-t", "tmpfs", "-o", "size=1m", "sharedipc-posix-inner", inner.toString());
    try {
      Files.writeString(inner.resolve("other-volume"), "x");
      List<String> problems = new ArrayList<>();
      MemoryVolume v =
          new MemoryVolume(
              MemoryVolume.Kind.DevShm, "dev-shm", volume.toString(), "pod-uid-2", 16 << 20, 0);
      assertThat(PosixObjectCollector.collect(List.of(v), problems))
          .extracting(PosixObject::name)
          .containsExactly("top");
      assertThat(problems).isEmpty();
    } finally {
      run("umount", inner.toString());
    }
  }

  /**
   * A listing longer than one getdents64 buffer, in directories nested in each other (each level
   * lists while its parent is half way through its own listing), with a directory link and another
   * mount among them: every file is listed once, with its path relative to the volume, nothing
   * behind the link or the mount, exactly what a plain walk that follows nothing finds.
   */
  @Test
  void longListingsInNestedDirectoriesAreReadWholeWithoutFollowingLinksOrEnteringMounts()
      throws Exception {
    Path deep = Files.createDirectories(volume.resolve("a/b"));
    String pad =
        "x".repeat(100); // ~130-byte entries: 600 per level overflow the 32 KiB listing buffer
    for (Path dir : List.of(volume, volume.resolve("a"), deep)) {
      for (int i = 0; i < 600; i++) {
        Files.createFile(dir.resolve("f" + i + pad));
      }
    }
    Path outside = Files.createDirectory(tmp.resolve("outside"));
    Files.createFile(outside.resolve("not-in-the-volume"));
    Files.createSymbolicLink(volume.resolve("a/link-to-outside"), outside);
    Path other = Files.createDirectory(volume.resolve("a/other-mount"));
    run("mount", "-t", "tmpfs", "-o", "size=1m", "sharedipc-posix-it-inner", other.toString());
    try {
      Files.createFile(other.resolve("another-volumes-file"));
      MemoryVolume v =
          new MemoryVolume(
              MemoryVolume.Kind.EmptyDir, "shm", volume.toString(), "pod-uid-4", 16 << 20, 0);
      List<String> problems = new ArrayList<>();

      List<String> listed =
          PosixObjectCollector.collect(List.of(v), problems).stream()
              .map(PosixObject::name)
              .toList();

      assertThat(problems).isEmpty();
      List<String> expected = new ArrayList<>(List.of("a/link-to-outside"));
      try (var walk = Files.walk(volume)) {
        walk.filter(
                p ->
                    Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                        && !p.startsWith(other))
            .forEach(p -> expected.add(volume.relativize(p).toString()));
      }
      assertThat(expected).hasSize(1 + 3 * 600);
      assertThat(listed).containsExactlyInAnyOrderElementsOf(expected);
    } finally {
      run("umount", other.toString());
    }
  }

  private Path write(String name, int bytes) throws Exception {
    Path p = volume.resolve(name);
    Files.write(p, new byte[bytes]);
    return p;
  }

  private Process start(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    started.add(p);
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    assertThat(out.readLine()).as("%s started", List.of(cmd)).isEqualTo("ready");
    return p;
  }

  static void run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("%s: %s", List.of(cmd), out).isZero();
  }
}
