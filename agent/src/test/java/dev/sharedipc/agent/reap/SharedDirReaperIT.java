package dev.sharedipc.agent.reap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.agent.attribution.NodePod;
import dev.sharedipc.agent.attribution.NodePods;
import dev.sharedipc.agent.scan.FileUsersIndex;
import dev.sharedipc.agent.scan.PosixScan;
import dev.sharedipc.agent.testing.ReadableProc;
import dev.sharedipc.agent.testing.Root;
import dev.sharedipc.agent.verdict.SharedDirVerdict;
import dev.sharedipc.api.Labels;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shared-directory reaper on the real kernel, as root: a real tmpfs mounted on a temp dir as
 * the shared root, instance directories in it, a real process holding a file open in one of them,
 * and the real /proc scanned for users. Pods are a fixed list (what a synced informer would hold)
 * and time is a test clock, so the grace period passes without waiting. Nothing outside the temp
 * dir is touched; every process started is killed and the tmpfs unmounted after each test.
 */
class SharedDirReaperIT {
  static final Duration GRACE = Duration.ofSeconds(30);

  @TempDir Path tmp;
  Path root;
  Path outside;
  final List<Process> started = new ArrayList<>();
  final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

  @BeforeEach
  void tmpfs() throws Exception {
    Root.require();
    Root.requireTool("mount");
    Root.requireTool("umount");
    Root.requireTool("sh");
    Root.requireTool("sleep");
    root = Files.createDirectory(tmp.resolve("shared"));
    run("mount", "-t", "tmpfs", "-o", "size=8m,mode=0755", "sharedipc-it", root.toString());
    assertThat(Files.readString(Path.of("/proc/self/mountinfo")))
        .contains(" " + root.toRealPath() + " ");
    outside = Files.createDirectory(tmp.resolve("outside"));
    Files.writeString(outside.resolve("precious"), "must survive");
  }

  @AfterEach
  void cleanUp() throws Exception {
    for (Process p : started) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
    if (root != null
        && Files.readString(Path.of("/proc/self/mountinfo"))
            .contains(" " + root.toRealPath() + " ")) {
      run("umount", root.toString());
    }
  }

  @Test
  void heldDirectoryIsKeptUnheldOneWithoutPodIsRemovedAfterGraceAndLinksAreNotFollowed()
      throws Exception {
    Path held = instanceDir("team_g_0");
    Path unheld = instanceDir("team_g_1");
    Files.createSymbolicLink(
        unheld.resolve("link-out"), outside.resolve("precious")); // inside: removed as a link only
    Files.createSymbolicLink(unheld.resolve("dir-out"), outside);
    Path withPod = instanceDir("team_g_2");
    Path unattributed = Files.createDirectory(root.resolve("not-an-instance"));
    Path escaping =
        Files.createSymbolicLink(
            root.resolve("team_g_7"), outside); // looks like an instance; leads outside
    Process holder = holdOpen(held.resolve("data"));

    NodePods cluster =
        synced(
            List.of(
                new NodePod(
                    "team",
                    "g-2-writer",
                    Map.of(Labels.GROUP, "g", Labels.INSTANCE, "2"),
                    "Running")));
    Path procView = ReadableProc.view(tmp);
    assertThat(procView.resolve(Long.toString(holder.pid()))).exists();
    SharedDirReaper reaper = new SharedDirReaper(root, List.of(procView), cluster, false, clock);

    Map<String, SharedDirDecision> first = byName(reaper.reap());
    assertThat(first.get("team_g_0").judgement().verdict()).isEqualTo(SharedDirVerdict.WithinGrace);
    assertThat(first.get("team_g_1").judgement().verdict()).isEqualTo(SharedDirVerdict.WithinGrace);
    assertThat(first.values()).allSatisfy(d -> assertThat(d.action()).isEqualTo(Action.Kept));

    clock.advance(GRACE.plusSeconds(1));
    Map<String, SharedDirDecision> second = byName(reaper.reap());

    assertThat(second.get("team_g_1").action())
        .as(second.get("team_g_1").audit())
        .isEqualTo(Action.Removed);
    assertThat(unheld).doesNotExist();

    assertThat(second.get("team_g_0").judgement().verdict()).isEqualTo(SharedDirVerdict.InUse);
    assertThat(second.get("team_g_0").reason()).contains(Long.toString(holder.pid()));
    assertThat(held.resolve("data")).exists();

    assertThat(second.get("team_g_2").judgement().verdict())
        .isEqualTo(SharedDirVerdict.InstancePresent);
    assertThat(withPod).exists();
    assertThat(second.get("not-an-instance").judgement().verdict())
        .isEqualTo(SharedDirVerdict.Unattributed);
    assertThat(unattributed).exists();
    assertThat(second.get("team_g_7").judgement().verdict()).isEqualTo(SharedDirVerdict.Unsafe);
    assertThat(second.get("team_g_7").owner()).isPresent();
    assertThat(Files.isSymbolicLink(escaping)).isTrue();
    assertThat(outside.resolve("precious")).hasContent("must survive");

    holder.destroyForcibly();
    holder.waitFor(10, TimeUnit.SECONDS);
    Map<String, SharedDirDecision> third = byName(reaper.reap());
    assertThat(third.get("team_g_0").action())
        .as(third.get("team_g_0").audit())
        .isEqualTo(Action.Removed);
    assertThat(held).doesNotExist();
    assertThat(withPod).exists();
    assertThat(outside.resolve("precious")).hasContent("must survive");
  }

  @Test
  void namesWithAndWithoutTheGroupsUidAreAttributedAndAnOldIncarnationsDirectoryGoes()
      throws Exception {
    String oldUid = "11111111-2222-4333-8444-555555555555";
    String newUid = "66666666-7777-4888-9999-aaaaaaaaaaaa";
    Path previous = instanceDir("team_g_" + oldUid + "_0"); // group g deleted and created again
    Path current = instanceDir("team_g_" + newUid + "_0");
    Path oldForm = instanceDir("team_g_0"); // made before the uid was part of the name
    NodePods cluster =
        synced(
            List.of(
                new NodePod(
                    "team",
                    "g-0-writer",
                    Map.of(Labels.GROUP, "g", Labels.INSTANCE, "0"),
                    "Running",
                    newUid,
                    null)));
    SharedDirReaper reaper =
        new SharedDirReaper(root, List.of(ReadableProc.view(tmp)), cluster, false, clock);
    reaper.reap();
    clock.advance(GRACE.plusSeconds(1));
    Map<String, SharedDirDecision> d = byName(reaper.reap());

    assertThat(d.get("team_g_" + oldUid + "_0").owner())
        .get()
        .extracting(o -> o.groupUid())
        .isEqualTo(oldUid);
    assertThat(d.get("team_g_" + oldUid + "_0").action())
        .as(d.get("team_g_" + oldUid + "_0").audit())
        .isEqualTo(Action.Removed);
    assertThat(previous).doesNotExist();
    assertThat(d.get("team_g_" + newUid + "_0").judgement().verdict())
        .isEqualTo(SharedDirVerdict.InstancePresent);
    assertThat(current.resolve("data")).exists();
    assertThat(d.get("team_g_0").judgement().verdict())
        .as("the old name form is still attributed")
        .isEqualTo(SharedDirVerdict.InstancePresent);
    assertThat(oldForm.resolve("data")).exists();

    // Once the informer says which directory the member mounts (the uid-named one), the old form
    // goes too.
    NodePods mounting =
        synced(
            List.of(
                new NodePod(
                    "team",
                    "g-0-writer",
                    Map.of(Labels.GROUP, "g", Labels.INSTANCE, "0"),
                    "Running",
                    newUid,
                    java.util.Set.of("team_g_" + newUid + "_0"))));
    SharedDirReaper next =
        new SharedDirReaper(root, List.of(ReadableProc.view(tmp)), mounting, false, clock);
    next.reap();
    clock.advance(GRACE.plusSeconds(1));
    Map<String, SharedDirDecision> later = byName(next.reap());
    assertThat(later.get("team_g_0").action())
        .as(later.get("team_g_0").audit())
        .isEqualTo(Action.Removed);
    assertThat(oldForm).doesNotExist();
    assertThat(current.resolve("data")).exists();
  }

  @Test
  void dryRunRemovesNothingAndSaysWhatItWould() throws Exception {
    Path dir = instanceDir("team_g_3");
    SharedDirReaper reaper =
        new SharedDirReaper(root, List.of(ReadableProc.view(tmp)), synced(List.of()), true, clock);
    reaper.reap();
    clock.advance(GRACE.plusSeconds(1));
    SharedDirDecision d = byName(reaper.reap()).get("team_g_3");
    assertThat(d.action()).as(d.audit()).isEqualTo(Action.WouldRemove);
    assertThat(d.reason()).startsWith("dry run:");
    assertThat(dir.resolve("data")).exists();
  }

  @Test
  void withoutAnApiServerNothingIsEverJudgedGone() throws Exception {
    Path dir = instanceDir("team_g_4");
    SharedDirReaper reaper =
        new SharedDirReaper(root, List.of(Path.of("/proc")), NodePods.OFFLINE, false, clock);
    reaper.reap();
    clock.advance(Duration.ofDays(1));
    SharedDirDecision d = byName(reaper.reap()).get("team_g_4");
    assertThat(d.judgement().verdict()).isEqualTo(SharedDirVerdict.ClusterUnknown);
    assertThat(dir).exists();
  }

  /**
   * The serve pass reads /proc once: the POSIX survey's index (which covers the shared root)
   * answers who uses each directory, and only the re-check before a removal reads /proc again. The
   * reaper's own proc root here does not exist, so its own read can only say "unknown": a directory
   * judged in use proves the index was used, one spared on the re-check proves the re-check did not
   * use it.
   */
  @Test
  void aPassJudgesFromTheSurveysIndexAndTheReCheckReadsProcAfresh() throws Exception {
    Path held = instanceDir("team_g_8");
    Path worked = instanceDir("team_g_6");
    Path unheld = instanceDir("team_g_9");
    Process holder = holdOpen(held.resolve("data"));
    Process worker = workIn(worked.resolve("sub"));
    Path procView = ReadableProc.view(tmp);
    FileUsersIndex index =
        PosixScan.read(List.of(), List.of(procView), List.of(root), new ArrayList<>()).users();
    assertThat(index.unknown()).isNull();
    SharedDirReaper reaper =
        new SharedDirReaper(
            root, List.of(tmp.resolve("no-proc-here")), synced(List.of()), false, clock);
    reaper.reap(index);
    clock.advance(GRACE.plusSeconds(1));

    Map<String, SharedDirDecision> d = byName(reaper.reap(index));

    assertThat(d.get("team_g_8").judgement().verdict())
        .as(d.get("team_g_8").audit())
        .isEqualTo(SharedDirVerdict.InUse);
    assertThat(d.get("team_g_8").reason()).contains(Long.toString(holder.pid()));
    assertThat(d.get("team_g_6").judgement().verdict())
        .as(d.get("team_g_6").audit())
        .isEqualTo(SharedDirVerdict.InUse);
    assertThat(d.get("team_g_6").reason()).contains(Long.toString(worker.pid()));
    assertThat(d.get("team_g_9").judgement().verdict()).isEqualTo(SharedDirVerdict.Remove);
    assertThat(d.get("team_g_9").action()).as(d.get("team_g_9").audit()).isEqualTo(Action.Spared);
    assertThat(d.get("team_g_9").reason())
        .contains("re-check before removal")
        .contains("no-proc-here");
    assertThat(held).exists();
    assertThat(worked).exists();
    assertThat(unheld).exists();
  }

  @Test
  void aProcessWhoseFilesCannotBeReadKeepsEveryDirectory() throws Exception {
    List<String> unreadable = ReadableProc.unreadablePids();
    if (unreadable.isEmpty()) {
      // full root (CAP_SYS_PTRACE) reads every process, and root cannot be denied by file modes
      // either:
      // nothing to prove here on this kernel; the rule itself is in
      // SharedDirJudgeTest.unknownUsersKeepIt
      return;
    }
    Path dir = instanceDir("team_g_5");
    SharedDirReaper reaper =
        new SharedDirReaper(root, List.of(Path.of("/proc")), synced(List.of()), false, clock);
    reaper.reap();
    clock.advance(GRACE.plusSeconds(1));
    SharedDirDecision d = byName(reaper.reap()).get("team_g_5");
    assertThat(d.judgement().verdict()).as(d.audit()).isEqualTo(SharedDirVerdict.UsersUnknown);
    assertThat(d.reason()).contains("pid " + unreadable.get(0));
    assertThat(dir).exists();
  }

  Path instanceDir(String name) throws Exception {
    Path d = Files.createDirectory(root.resolve(name));
    Files.createDirectories(d.resolve("sub"));
    Files.writeString(d.resolve("data"), "x".repeat(4096));
    Files.writeString(d.resolve("sub/more"), "y");
    return d;
  }

  /**
   * A process with {@code file} open on fd 3 (sh opens it, then execs sleep, which inherits it).
   */
  Process holdOpen(Path file) throws Exception {
    Process p =
        new ProcessBuilder("sh", "-c", "exec 3<\"$1\"; exec sleep 600", "sh", file.toString())
            .redirectErrorStream(true)
            .start();
    started.add(p);
    Path fd3 = Path.of("/proc", Long.toString(p.pid()), "fd", "3");
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(20))
        .until(
            () ->
                Files.exists(fd3, LinkOption.NOFOLLOW_LINKS)
                    && Files.readSymbolicLink(fd3).toString().equals(file.toRealPath().toString())
                    && Files.readString(Path.of("/proc", Long.toString(p.pid()), "comm"))
                        .trim()
                        .equals("sleep"));
    return p;
  }

  /** A process whose working directory is {@code dir} (and no file of it open). */
  Process workIn(Path dir) throws Exception {
    Process p =
        new ProcessBuilder("sh", "-c", "cd \"$1\" && exec sleep 600", "sh", dir.toString())
            .redirectErrorStream(true)
            .start();
    started.add(p);
    Path cwd = Path.of("/proc", Long.toString(p.pid()), "cwd");
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(20))
        .until(
            () ->
                Files.readSymbolicLink(cwd).toString().equals(dir.toRealPath().toString())
                    && Files.readString(Path.of("/proc", Long.toString(p.pid()), "comm"))
                        .trim()
                        .equals("sleep"));
    return p;
  }

  static NodePods synced(List<NodePod> pods) {
    return new NodePods() {
      @Override
      public Optional<List<NodePod>> onThisNode() {
        return Optional.of(pods);
      }

      @Override
      public Optional<Duration> orphanGrace(String namespace, String group) {
        return Optional.of(GRACE);
      }
    };
  }

  static Map<String, SharedDirDecision> byName(List<SharedDirDecision> decisions) {
    return decisions.stream()
        .collect(Collectors.toMap(SharedDirDecision::name, Function.identity()));
  }

  static void run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out.trim());
    }
  }

  static final class MutableClock extends Clock {
    private volatile Instant now;

    MutableClock(Instant now) {
      this.now = now;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }
}
