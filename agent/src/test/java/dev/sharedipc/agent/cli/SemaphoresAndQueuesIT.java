package dev.sharedipc.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sharedipc.agent.kernel.LinuxKernel;
import dev.sharedipc.agent.scan.SysvSemMsgParser;
import dev.sharedipc.agent.testing.ProcFixture;
import dev.sharedipc.agent.testing.RealNamespaces;
import dev.sharedipc.agent.testing.RealNamespaces.Ns;
import dev.sharedipc.agent.testing.Root;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
 * Semaphore sets and message queues on the real kernel, as root, through the shaded jar: System V
 * sets and queues made with {@code ipcmk} and {@code msgsnd} in new IPC namespaces, and a POSIX
 * message queue made with {@code mq_open} in a namespace that has its own mount namespace with an
 * mqueue filesystem at {@code /dev/mqueue} (as a container runtime mounts it). A fixture proc root
 * maps each namespace to a pod; the POSIX one's {@code root} leads to the real process's, so its
 * queues are read through that process's mounts. Only the test's own namespaces are listed.
 */
class SemaphoresAndQueuesIT {
  static final String POD_A = "5e000000-0000-4000-8000-00000000000a";
  static final String POD_B = "5e000000-0000-4000-8000-00000000000b";
  static final String POD_C = "5e000000-0000-4000-8000-00000000000c";
  static final String MQ_HELPER =
      """
      import ctypes, os, sys, time
      rt = ctypes.CDLL("librt.so.1", use_errno=True)
      rt.mq_open.restype = ctypes.c_int
      rt.mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
      rt.mq_send.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint]
      fd = rt.mq_open(b"/orders", os.O_CREAT | os.O_RDWR, 0o600, None)
      if fd < 0 or rt.mq_send(fd, b"x" * 100, 100, 0) < 0:
          print("error errno %d" % ctypes.get_errno(), flush=True)
          sys.exit(1)
      print("ok", flush=True)
      while True:
          time.sleep(3600)
      """;
  static final String MSG_HELPER =
      """
      import ctypes, sys
      libc = ctypes.CDLL(None, use_errno=True)
      class Msg(ctypes.Structure):
          _fields_ = [("mtype", ctypes.c_long), ("mtext", ctypes.c_char * 64)]
      q = libc.msgget(ctypes.c_int(0x5e01), 0o1000 | 0o600)
      if q < 0 or libc.msgsnd(q, ctypes.byref(Msg(1, b"m" * 64)), 64, 0) < 0 or libc.msgsnd(q, ctypes.byref(Msg(1, b"m" * 64)), 64, 0) < 0:
          print("error errno %d" % ctypes.get_errno(), flush=True)
          sys.exit(1)
      print(q, flush=True)
      """;

  @TempDir Path proc;
  @TempDir Path work;
  RealNamespaces real;
  Ns a;
  Ns b;
  Process posixHolder;
  final List<Process> started = new ArrayList<>();

  @BeforeEach
  void namespacesWithSemaphoresAndQueues() throws Exception {
    real = new RealNamespaces();
    Root.requireTool("ipcmk");
    a = real.newNamespace();
    b = real.newNamespace();
    run(a, "ipcmk", "-S", "3");
    run(a, "ipcmk", "-S", "1");
    run(a, "ipcmk", "-Q");
    Path msg = work.resolve("msg.py");
    Files.writeString(msg, MSG_HELPER);
    run(b, "python3", msg.toString());

    Path mq = work.resolve("mq.py");
    Files.writeString(mq, MQ_HELPER);
    // its own IPC and mount namespaces: a private tmpfs over /dev there, with the namespace's
    // mqueue filesystem in it
    posixHolder =
        new ProcessBuilder(
                "unshare",
                "--ipc",
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                "mount -t tmpfs none /dev && mkdir /dev/mqueue && mount -t mqueue none /dev/mqueue && exec python3 "
                    + mq)
            .redirectErrorStream(true)
            .start();
    started.add(posixHolder);
    String line =
        new BufferedReader(
                new InputStreamReader(posixHolder.getInputStream(), StandardCharsets.UTF_8))
            .readLine();
    assertThat(line).as("mq_open helper").isEqualTo("ok");

    new ProcFixture(proc)
        .realNamespace((int) a.pid(), a.pid(), ProcFixture.podCgroup(POD_A))
        .realNamespace((int) b.pid(), b.pid(), ProcFixture.podCgroup(POD_B))
        .realProcess((int) posixHolder.pid(), posixHolder.pid(), ProcFixture.podCgroup(POD_C));
  }

  @AfterEach
  void killEverything() throws Exception {
    for (Process p : started) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
    if (real != null) {
      real.close();
    }
  }

  /** Runs a command inside a namespace and waits for it. */
  private void run(Ns ns, String... cmd) throws Exception {
    List<String> full = new ArrayList<>(List.of("nsenter", "--ipc=/proc/" + ns.pid() + "/ns/ipc"));
    full.addAll(List.of(cmd));
    Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
    started.add(p);
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("%s: %s", full, out).isZero();
  }

  private static long posixNamespace(Process p) {
    return dev.sharedipc.agent.scan.NamespaceCollector.nsInode(
        Path.of("/proc/" + p.pid() + "/ns/ipc"));
  }

  @Test
  void scanListsSemaphoreSetsAndQueuesOfEveryNamespaceWithTheirPod() throws Exception {
    CliIT.Result r =
        CliIT.jar("scan", "--json", "--proc-root", proc.toString(), "--ledger", "none");
    assertThat(r.code()).isZero();
    JsonNode root = new ObjectMapper().readTree(r.out());

    List<JsonNode> sets = list(root.get("semaphoreSets"));
    assertThat(sets)
        .hasSize(2)
        .allSatisfy(
            s -> {
              assertThat(s.get("ipcNamespace").asLong()).isEqualTo(a.inode());
              assertThat(s.get("pod").get("uid").asText()).isEqualTo(POD_A);
              assertThat(s.get("attribution").asText()).isEqualTo("POD_NAMESPACE");
            });
    assertThat(sets).extracting(s -> s.get("nsems").asLong()).containsExactlyInAnyOrder(3L, 1L);

    List<JsonNode> queues = list(root.get("messageQueues"));
    assertThat(queues)
        .extracting(q -> q.get("ipcNamespace").asLong() + "=" + q.get("pod").get("uid").asText())
        .containsExactlyInAnyOrder(a.inode() + "=" + POD_A, b.inode() + "=" + POD_B);
    assertThat(queues)
        .filteredOn(q -> q.get("ipcNamespace").asLong() == b.inode())
        .singleElement()
        .satisfies(
            q -> {
              assertThat(q.get("key").asText()).isEqualTo("0x00005e01");
              assertThat(q.get("messages").asLong()).isEqualTo(2);
              assertThat(q.get("queuedBytes").asLong()).isEqualTo(128);
              assertThat(q.get("lastSendPid").asInt()).isPositive();
            });

    List<JsonNode> posix = list(root.get("posixMessageQueues"));
    assertThat(posix)
        .singleElement()
        .satisfies(
            q -> {
              assertThat(q.get("name").asText()).isEqualTo("/orders");
              assertThat(q.get("queuedBytes").asLong()).isEqualTo(100);
              assertThat(q.get("ipcNamespace").asLong()).isEqualTo(posixNamespace(posixHolder));
              assertThat(q.get("pod").get("uid").asText()).isEqualTo(POD_C);
            });
    // the two namespaces with no process showing an mqueue filesystem: unknown, not "no queues"
    assertThat(list(root.get("posixMessageQueuesUnknown")))
        .extracting(n -> n.get("ipcNamespace").asLong())
        .containsExactlyInAnyOrder(a.inode(), b.inode());

    CliIT.Result table =
        CliIT.jar(
            "scan",
            "--kind",
            "semaphores,queues",
            "--pod",
            POD_A,
            "--proc-root",
            proc.toString(),
            "--ledger",
            "none");
    assertThat(table.out())
        .contains("------ Semaphore sets ------", "------ Message queues ------")
        .doesNotContain("------ Shared memory segments ------")
        .doesNotContain(POD_B)
        .doesNotContain("/orders");
  }

  @Test
  void reapUnderDeleteWithNoGraceRemovesNoSemaphoreSetNorQueue() throws Exception {
    List<Integer> setsBefore = semids(a);
    assertThat(setsBefore).hasSize(2);

    CliIT.Result r =
        CliIT.jar(
            "reap",
            "--policy",
            "Delete",
            "--grace",
            "0s",
            "--proc-root",
            proc.toString(),
            "--ledger",
            "none");

    assertThat(r.code()).isZero();
    assertThat(semids(a)).isEqualTo(setsBefore);
    assertThat(msqids(a)).hasSize(1);
    assertThat(msqids(b)).hasSize(1);
    assertThat(Path.of("/proc/" + posixHolder.pid() + "/root/dev/mqueue/orders")).exists();
  }

  private static List<Integer> semids(Ns ns) throws Exception {
    return new LinuxKernel()
            .inIpcNamespace(
                ns.ref(), s -> SysvSemMsgParser.semaphores(ns.inode(), s.readSysvSem()).sets())
            .stream()
            .map(x -> x.semid())
            .sorted()
            .toList();
  }

  private static List<Integer> msqids(Ns ns) throws Exception {
    return new LinuxKernel()
            .inIpcNamespace(
                ns.ref(), s -> SysvSemMsgParser.queues(ns.inode(), s.readSysvMsg()).queues())
            .stream()
            .map(x -> x.msqid())
            .sorted()
            .toList();
  }

  private static List<JsonNode> list(JsonNode array) {
    assertThat(array).as("array in the scan output").isNotNull();
    return StreamSupport.stream(array.spliterator(), false).toList();
  }
}
