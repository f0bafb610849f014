package dev.sharedipc.agent.prepare;

import static dev.sharedipc.agent.prepare.SharedDirPreparerFixtures.DIR;
import static dev.sharedipc.agent.prepare.SharedDirPreparerFixtures.json;
import static dev.sharedipc.agent.prepare.SharedDirPreparerFixtures.member;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.agent.prepare.SharedDirPreparer.Outcome;
import dev.sharedipc.agent.testing.Root;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent making a SameNode shared directory on the real kernel, as root: a real tmpfs mounted on
 * a temp dir as the shared root, real mkdir/chmod/chown, and processes running as non-root users
 * (setpriv) proving who can write there. Nothing outside the temp dir is touched; the tmpfs is
 * unmounted after each test.
 */
class SharedDirPreparerIT {
  @TempDir Path tmp;
  Path root;
  SharedDirPreparer preparer;

  @BeforeEach
  void tmpfs() throws Exception {
    Root.require();
    Root.requireTool("mount");
    Root.requireTool("umount");
    Root.requireTool("setpriv");
    Root.requireTool("sh");
    // Non-root test users must reach the shared root, as members reach it through their mount.
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    root = Files.createDirectory(tmp.resolve("shared"));
    run("mount", "-t", "tmpfs", "-o", "size=8m,mode=0755", "sharedipc-it", root.toString());
    preparer = new SharedDirPreparer(root);
  }

  @AfterEach
  void unmount() throws Exception {
    if (root != null
        && Files.readString(Path.of("/proc/self/mountinfo"))
            .contains(" " + root.toRealPath() + " ")) {
      run("umount", root.toString());
    }
  }

  @Test
  void theDirectoryIsMadeForTheMembersGroupAndNonRootMembersWriteThere() throws Exception {
    Pod pod = member(root.toString(), "2000").build();
    assertThat(preparer.prepare(json(pod)))
        .get()
        .extracting(SharedDirPreparer.Prepared::outcome)
        .isEqualTo(Outcome.Created);
    Path dir = root.resolve(DIR);
    Map<String, Object> a =
        Files.readAttributes(dir, "unix:uid,gid,mode", LinkOption.NOFOLLOW_LINKS);
    assertThat(a.get("uid")).isEqualTo(0);
    assertThat(a.get("gid")).isEqualTo(2000);
    assertThat(Integer.toOctalString((Integer) a.get("mode") & 07777)).isEqualTo("2770");

    // A member running as uid 1000 whose fsGroup 2000 is a supplementary group writes; its file
    // takes group 2000.
    assertThat(as(1000, 3000, 2000, "echo written > " + dir + "/by-member")).isZero();
    assertThat(Files.readAttributes(dir.resolve("by-member"), "unix:gid").get("gid"))
        .as("setgid: files inherit the group")
        .isEqualTo(2000);
    // Another member (other uid, same group) reads it; a process without the group cannot even
    // enter.
    assertThat(as(1001, 1001, 2000, "cat " + dir + "/by-member")).isZero();
    assertThat(as(1002, 1002, 1002, "ls " + dir)).isNotZero();
    // The same pod again (an update event) finds it right and changes nothing.
    assertThat(preparer.prepare(json(pod)))
        .get()
        .extracting(SharedDirPreparer.Prepared::outcome)
        .isEqualTo(Outcome.Present);
  }

  @Test
  void aDirectoryLeftRootOwned0755IsSetRight() throws Exception {
    Path dir =
        Files.createDirectory(
            root.resolve(DIR),
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    Files.writeString(dir.resolve("kept"), "data");
    assertThat(as(1000, 3000, 2000, "touch " + dir + "/x"))
        .as("as the kubelet's DirectoryOrCreate left it")
        .isNotZero();
    var prepared = preparer.prepare(json(member(root.toString(), "2000").build())).orElseThrow();
    assertThat(prepared.outcome()).isEqualTo(Outcome.Repaired);
    assertThat(prepared.reason()).contains("was 0:0 mode 755", "0:2000 mode 2770");
    assertThat(as(1000, 3000, 2000, "touch " + dir + "/x")).isZero();
    assertThat(Files.readString(dir.resolve("kept"))).isEqualTo("data");
  }

  @Test
  void anEntryOfThatNameThatIsNotADirectoryIsLeftAloneAndNothingIsFollowed() throws Exception {
    Path outside =
        Files.createDirectory(
            tmp.resolve("outside"),
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    Files.createSymbolicLink(root.resolve(DIR), outside);
    var prepared = preparer.prepare(json(member(root.toString(), "2000").build())).orElseThrow();
    assertThat(prepared.outcome()).isEqualTo(Outcome.Refused);
    Map<String, Object> a = Files.readAttributes(outside, "unix:gid,mode");
    assertThat(a.get("gid")).isEqualTo(0);
    assertThat(Integer.toOctalString((Integer) a.get("mode") & 07777)).isEqualTo("755");
  }

  @Test
  void podsThatAreNotOperatorMembersMakeNothing() throws Exception {
    Pod foreign =
        new PodBuilder(member(root.toString(), "2000").build())
            .editMetadata()
            .withOwnerReferences(List.of())
            .endMetadata()
            .build();
    assertThat(preparer.prepare(json(foreign))).isEmpty();
    try (var entries = Files.list(root)) {
      assertThat(entries).isEmpty();
    }
  }

  /**
   * Exit status of {@code sh -c script} as uid/gid with one supplementary group, without any
   * capability.
   */
  static int as(int uid, int gid, int group, String script) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "setpriv",
                "--reuid=" + uid,
                "--regid=" + gid,
                "--groups=" + group,
                "--inh-caps=-all",
                "--bounding-set=-all",
                "sh",
                "-c",
                script));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(String.join(" ", cmd) + " did not finish");
    }
    return p.exitValue();
  }

  static void run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out.trim());
    }
  }
}
