package dev.sharedipc.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.agent.testing.RealNamespaces;
import dev.sharedipc.agent.testing.RealNamespaces.Handle;
import dev.sharedipc.agent.testing.RealNamespaces.Ns;
import dev.sharedipc.api.RepoPaths;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * docs/troubleshooting.md's way to find who has a segment attached, run as written on real IPC
 * namespaces: two namespaces each hold an attached segment with the same shmid, and the snippet
 * names the attacher of the one asked about only (a plain grep of /proc/*\/maps named both).
 */
class AttacherLookupIT {
  RealNamespaces real;

  @BeforeEach
  void setUp() {
    real = new RealNamespaces();
  }

  @AfterEach
  void tearDown() throws Exception {
    real.close();
  }

  @Test
  void theDocumentedLookupNamesOnlyTheAttacherInTheSegmentsNamespace() throws Exception {
    Ns asked = real.newNamespace();
    Ns other = real.newNamespace();
    Handle attacher = real.attached(asked, 0x7200, 4096);
    Handle decoy = real.attached(other, 0x7201, 4096);
    // Fresh namespaces number their segments from 0: the same shmid in both.
    assertThat(decoy.shmid()).isEqualTo(attacher.shmid());

    String script =
        snippet()
            .replace(
                "ns=<ipcNamespace>; id=<shmid>",
                "ns=" + asked.inode() + "; id=" + attacher.shmid());
    Process p = new ProcessBuilder("bash", "-c", script).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(out.lines().toList()).containsExactly("/proc/" + attacher.process().pid() + "/maps");
  }

  /** The fenced block under "Who has a segment attached" in docs/troubleshooting.md. */
  private static String snippet() throws Exception {
    String doc = Files.readString(RepoPaths.root().resolve("docs/troubleshooting.md"));
    int section = doc.indexOf("**Who has a segment attached.**");
    assertThat(section).as("the section in docs/troubleshooting.md").isPositive();
    int start = doc.indexOf("```\n", section) + 4;
    String block = doc.substring(start, doc.indexOf("```", start));
    assertThat(block).contains("ns=<ipcNamespace>; id=<shmid>");
    return block;
  }
}
