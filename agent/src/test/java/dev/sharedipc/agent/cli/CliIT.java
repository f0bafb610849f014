package dev.sharedipc.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sharedipc.agent.testing.ProcFixture;
import dev.sharedipc.agent.testing.RealNamespaces;
import dev.sharedipc.agent.testing.RealNamespaces.Ns;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shaded jar as a user runs it ({@code java -jar}), on real namespaces mapped to pods by a
 * fixture proc root. Reaping with Delete only ever sees the test's own namespaces (the fixture
 * lists nothing else), never the host's.
 */
class CliIT {
  static final String POD = "c0000000-0000-4000-8000-00000000000c";
  @TempDir Path proc;
  RealNamespaces real;
  Ns ns;
  int orphan;
  RealNamespaces.Handle attached;

  @BeforeEach
  void setUp() throws Exception {
    real = new RealNamespaces();
    ns = real.newNamespace();
    new ProcFixture(proc).realNamespace((int) ns.pid(), ns.pid(), ProcFixture.podCgroup(POD));
    orphan = real.orphan(ns, 0x7100, 8192);
    attached = real.attached(ns, 0x7101, 4096);
  }

  @AfterEach
  void tearDown() throws Exception {
    real.close();
  }

  record Result(int code, String out) {}

  static Result jar(String... args) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "java",
                "-jar",
                System.getProperty("sharedipc.agent.jar", "target/sharedipc-agent.jar")));
    cmd.addAll(List.of(args));
    // the test's namespaces hang off this JVM's, the host's here (/proc/1 may be a sandbox's init,
    // unreadable)
    cmd.addAll(List.of("--host-ipc-ns", "/proc/self/ns/ipc"));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Result(p.exitValue(), out);
  }

  @Test
  void scanAsNonRootSaysItNeedsRootAndFails() throws Exception {
    // As nobody, with no capabilities: every other namespace is unreadable, so no table at all.
    List<String> cmd =
        List.of(
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
            "java",
            "-jar",
            Path.of(System.getProperty("sharedipc.agent.jar", "target/sharedipc-agent.jar"))
                .toAbsolutePath()
                .toString(),
            "scan");
    Process p = new ProcessBuilder(cmd).start();
    String out = new String(p.getInputStream().readAllBytes());
    String err = new String(p.getErrorStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("exit code; stderr: %s", err).isEqualTo(1);
    assertThat(out).isEmpty();
    assertThat(err)
        .contains("needs root (CAP_SYS_ADMIN and CAP_SYS_PTRACE)")
        .doesNotContain("Exception");
  }

  @Test
  void scanJsonListsEverySegmentWithItsPodAndVerdict() throws Exception {
    Result r =
        jar("scan", "--json", "--proc-root", proc.toString(), "--ledger", "none", "--grace", "0s");
    assertThat(r.code()).isZero();
    JsonNode segments = new ObjectMapper().readTree(r.out()).get("segments");
    assertThat(segments).hasSize(2);
    for (JsonNode s : segments) {
      assertThat(s.get("ipcNamespace").asLong()).isEqualTo(ns.inode());
      assertThat(s.get("podUid").asText()).isEqualTo(POD);
      assertThat(
              s.has("shmid")
                  && s.has("key")
                  && s.has("bytes")
                  && s.has("nattch")
                  && s.has("cpid")
                  && s.has("lpid"))
          .isTrue();
    }
    assertThat(segments)
        .anySatisfy(
            s -> {
              assertThat(s.get("shmid").asInt()).isEqualTo(orphan);
              assertThat(s.get("verdict").asText()).isEqualTo("Orphaned");
              assertThat(s.get("bytes").asLong()).isEqualTo(8192);
            });
  }

  @Test
  void reapDryRunRemovesNothingThenReapRemovesOnlyTheOrphan() throws Exception {
    Result dry =
        jar(
            "reap",
            "--dry-run",
            "--policy",
            "Delete",
            "--grace",
            "0s",
            "--proc-root",
            proc.toString(),
            "--ledger",
            "none");
    assertThat(dry.code()).isZero();
    assertThat(dry.out()).contains("WouldRemove").contains("InUse");
    assertThat(real.shmids(ns)).containsExactlyInAnyOrder(orphan, attached.shmid());

    Result reap =
        jar(
            "reap",
            "--policy",
            "Delete",
            "--grace",
            "0s",
            "--proc-root",
            proc.toString(),
            "--ledger",
            "none");
    assertThat(reap.code()).isZero();
    assertThat(reap.out().lines().findFirst())
        .hasValueSatisfying(h -> assertThat(h).contains("IPCNS", "SHMID", "ACTION", "REASON"));
    assertThat(reap.out()).contains("Removed");
    assertThat(real.shmids(ns)).containsExactly(attached.shmid());
  }
}
