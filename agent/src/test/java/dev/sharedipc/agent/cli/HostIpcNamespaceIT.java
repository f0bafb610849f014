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
  void aHostNamespaceFileThatCannotBeReadFailsTheScanSayingWhatToDo() throws Exception {
    Process p = start(own, "--host-ipc-ns", "/proc/0/ns/ipc");
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isNotZero();
    assertThat(err).contains("cannot read the host's IPC namespace from /proc/0/ns/ipc");
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
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "nsenter",
                "--ipc=/proc/" + ns.pid() + "/ns/ipc",
                "java",
                "-jar",
                Path.of(System.getProperty("sharedipc.agent.jar", "target/sharedipc-agent.jar"))
                    .toAbsolutePath()
                    .toString(),
                "scan",
                "--json",
                "--proc-root",
                proc.toString(),
                "--ledger",
                "none",
                "--host-shm",
                "none"));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).start();
  }

  private static List<JsonNode> list(JsonNode array) {
    assertThat(array).as("array in the scan output").isNotNull();
    return StreamSupport.stream(array.spliterator(), false).toList();
  }
}
