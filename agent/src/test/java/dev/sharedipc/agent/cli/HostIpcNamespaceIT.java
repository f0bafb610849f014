package dev.sharedipc.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sharedipc.agent.testing.ProcFixture;
import dev.sharedipc.agent.testing.RealNamespaces;
import dev.sharedipc.agent.testing.RealNamespaces.Ns;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent without hostIPC, on the real kernel: the shaded jar runs in an IPC namespace of its own
 * (as a pod without hostIPC does) and is pointed at a "host" namespace the test made, by {@code
 * --host-ipc-ns} (in a pod, its default {@code /proc/1/ns/ipc}). It must list the host's segments
 * as the host's, reached with setns like any pod's, and never take its own namespace for the
 * host's.
 */
class HostIpcNamespaceIT {
  static final String AGENT_POD = "a9000000-0000-4000-8000-0000000000a9";
  @TempDir Path proc;
  RealNamespaces real;
  Ns host;
  Ns own;

  @BeforeEach
  void hostAndAgentNamespaces() throws Exception {
    real = new RealNamespaces();
    host = real.newNamespace();
    own = real.newNamespace();
    real.orphan(host, 0x5e0a, 4096);
    real.orphan(own, 0x5e0b, 8192);
    // fixture pid 1 is the host's init; pid 2 stands for the agent itself, in its pod's cgroup
    new ProcFixture(proc)
        .realNamespace(1, host.pid(), ProcFixture.HOST_CGROUP)
        .realNamespace(2, own.pid(), ProcFixture.podCgroup(AGENT_POD));
  }

  @AfterEach
  void tearDown() throws Exception {
    real.close();
  }

  @Test
  void agentInItsOwnNamespaceListsTheHostsSegmentsAsTheHostsAndItsOwnAsItsPods() throws Exception {
    JsonNode root = scanFrom(own, "--host-ipc-ns", "/proc/" + host.pid() + "/ns/ipc");

    assertThat(list(root.get("ipcNamespaces")))
        .extracting(n -> n.get("inode").asLong() + " host=" + n.get("host").asBoolean())
        .containsExactlyInAnyOrder(host.inode() + " host=true", own.inode() + " host=false");
    List<JsonNode> segments = list(root.get("segments"));
    assertThat(segments)
        .filteredOn(s -> s.get("key").asText().equals("0x00005e0a"))
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.get("ipcNamespace").asLong())
                  .as("the host's segment, read from inside the host's namespace")
                  .isEqualTo(host.inode());
              assertThat(s.get("bytes").asLong()).isEqualTo(4096);
              assertThat(s.get("podUid").isNull()).as("no pod made it").isTrue();
            });
    assertThat(segments)
        .filteredOn(s -> s.get("key").asText().equals("0x00005e0b"))
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.get("ipcNamespace").asLong())
                  .as("the agent's own namespace is not the host's")
                  .isEqualTo(own.inode());
              assertThat(s.get("podUid").asText()).isEqualTo(AGENT_POD);
              assertThat(s.get("attribution").asText()).isEqualTo("POD_NAMESPACE");
            });
  }

  @Test
  void whereProcOneCannotBeReadTheScanListsWhatItCanAndNamesTheHostNamespaceUnderProblems()
      throws Exception {
    // As in a sandbox or a container without the host's PID namespace: /proc/1 hidden by an empty
    // tmpfs in a mount namespace of the scan's own, and --host-ipc-ns left at its default.
    Process p = start(List.of("unshare", "--mount", "--propagation", "private", "--"), own);
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("scan exit code; stderr: %s", err).isZero();
    assertThat(err).doesNotContain("Usage:");
    JsonNode root = new ObjectMapper().readTree(out);

    assertThat(list(root.get("segments")))
        .as("what can be read is listed: the agent's own namespace")
        .anySatisfy(s -> assertThat(s.get("key").asText()).isEqualTo("0x00005e0b"));
    assertThat(list(root.get("ipcNamespaces")))
        .as("no namespace is taken for the host's")
        .noneMatch(n -> n.get("host").asBoolean());
    assertThat(list(root.get("problems")))
        .extracting(JsonNode::asText)
        .anySatisfy(
            problem ->
                assertThat(problem)
                    .contains("host's IPC namespace", "/proc/1/ns/ipc", "--host-ipc-ns"));
  }

  @Test
  void aHostNamespaceFileThatCannotBeReadIsAProblemSayingWhatToDoNotAFailure() throws Exception {
    JsonNode root = scanFrom(own, "--host-ipc-ns", "/proc/0/ns/ipc");

    assertThat(list(root.get("segments")))
        .anySatisfy(s -> assertThat(s.get("key").asText()).isEqualTo("0x00005e0b"));
    assertThat(list(root.get("problems")))
        .extracting(JsonNode::asText)
        .anySatisfy(
            problem ->
                assertThat(problem)
                    .contains(
                        "cannot read the host's IPC namespace from /proc/0/ns/ipc",
                        "--host-ipc-ns"));
  }

  @Test
  void reapWithoutTheHostNamespaceRefusesInOneLineAndAHintNeverTheUsage() throws Exception {
    // reap removes, and may judge only knowing which namespace is the host's: it does not go on.
    Process p = start(List.of(), own, "reap", "--host-ipc-ns", "/proc/0/ns/ipc");
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isNotZero();
    assertThat(err)
        .contains("cannot read the host's IPC namespace from /proc/0/ns/ipc", "--host-ipc-ns")
        .doesNotContain("Usage:");
    assertThat(err.lines().filter(l -> !l.isBlank()).count())
        .as("one error line and one hint: %s", err)
        .isLessThanOrEqualTo(2);
  }

  /**
   * Runs {@code scan --json} with the agent's process in {@code ns}, as the agent's pod is in its
   * own namespace.
   */
  private JsonNode scanFrom(Ns ns, String... args) throws Exception {
    Process p = start(ns, args);
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("scan exit code; stderr: %s", err).isZero();
    return new ObjectMapper().readTree(out);
  }

  private Process start(Ns ns, String... args) throws Exception {
    return start(List.of(), ns, args);
  }

  /**
   * {@code scan --json} (or the command {@code args} begin with) in {@code ns}, under {@code
   * wrapper}; with an unshare wrapper, /proc/1 is hidden in the new mount namespace first.
   */
  private Process start(List<String> wrapper, Ns ns, String... args) throws Exception {
    boolean reap = args.length > 0 && args[0].equals("reap");
    List<String> agent =
        new ArrayList<>(
            List.of(
                "nsenter",
                "--ipc=/proc/" + ns.pid() + "/ns/ipc",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar",
                Path.of(System.getProperty("sharedipc.agent.jar", "target/sharedipc-agent.jar"))
                    .toAbsolutePath()
                    .toString()));
    agent.addAll(reap ? List.of("reap", "--dry-run") : List.of("scan", "--json"));
    agent.addAll(List.of("--proc-root", proc.toString(), "--ledger", "none", "--host-shm", "none"));
    agent.addAll(List.of(args).subList(reap ? 1 : 0, args.length));
    List<String> cmd = new ArrayList<>(wrapper);
    if (wrapper.isEmpty()) {
      cmd.addAll(agent);
    } else {
      cmd.addAll(
          List.of(
              "sh", "-c", "mount -t tmpfs sharedipc-hide /proc/1 && exec \"$@\"", "hide-proc-1"));
      cmd.addAll(agent);
    }
    return new ProcessBuilder(cmd).start();
  }

  private static List<JsonNode> list(JsonNode array) {
    assertThat(array).as("array in the scan output").isNotNull();
    return StreamSupport.stream(array.spliterator(), false).toList();
  }
}
