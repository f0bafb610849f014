package dev.sharedipc.e2e;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Real IPC namespaces and System V segments for the agent scenario, made the way the agent's
 * integration tests make them (agent/src/test/.../testing/RealNamespaces.java): a namespace is an
 * {@code unshare --ipc sleep} process this test owns; segments are made inside it by {@code nsenter
 * --ipc} + python3 running {@code agent/src/test/resources/shm_helper.py}. Only namespaces made
 * here are ever entered, and only segments made here are ever removed. {@link #close()} removes
 * every segment it made (IPC_RMID from inside its namespace) and kills every process it started; a
 * namespace dies with its last process anyway.
 */
final class RealIpc implements AutoCloseable {
  /** One namespace: the pid of the process that holds it. */
  record Ns(long pid) {
    String nsFile() {
      return "/proc/" + pid + "/ns/ipc";
    }
  }

  private final Path helper;
  private final List<Process> processes = new ArrayList<>();
  private final Map<Ns, TreeSet<Integer>> made = new LinkedHashMap<>();

  /** Skips (or, under CI=true, fails) unless root with unshare, nsenter and python3. */
  static void requireRootAndTools() {
    String uid = String.valueOf(new com.sun.security.auth.module.UnixSystem().getUid());
    if (!uid.equals("0")) {
      unavailable(
          "needs root on the real kernel (unshare, setns into other IPC namespaces, IPC_RMID); running as uid "
              + uid);
    }
    for (String tool : List.of("unshare", "nsenter", "python3")) {
      boolean found = false;
      for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
        found |= Files.isExecutable(Path.of(dir, tool));
      }
      if (!found) {
        unavailable("needs '" + tool + "' on the PATH");
      }
    }
  }

  private static void unavailable(String reason) {
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      throw new IllegalStateException(reason + " (CI=true: the E2E scenarios must run, not skip)");
    }
    Assumptions.abort(reason);
  }

  RealIpc(Path repo) {
    helper = repo.resolve("agent/src/test/resources/shm_helper.py");
    if (!Files.isRegularFile(helper)) {
      throw new IllegalStateException("no " + helper);
    }
  }

  /** A new IPC namespace held by a sleep this test owns. */
  Ns newNamespace() throws Exception {
    long host = inode(Path.of("/proc/self/ns/ipc"));
    // No --fork: unshare execs sleep in the new namespace, so the namespace's only process is the
    // one we hold, and killing it leaves nothing behind.
    Process p = start(List.of("unshare", "--ipc", "sleep", "600"));
    Path ns = Path.of("/proc/" + p.pid() + "/ns/ipc");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      long inode = inode(ns);
      if (inode > 0 && inode != host) {
        Ns made = new Ns(p.pid());
        this.made.put(made, new TreeSet<>());
        return made;
      }
      Thread.sleep(10);
    }
    throw new IllegalStateException(
        "unshare --ipc (pid " + p.pid() + ") did not enter a new IPC namespace within 10s");
  }

  /** A segment whose creator has exited: an orphan candidate. Returns its shmid. */
  int orphan(Ns ns, int key, long bytes) throws Exception {
    Process p = helper(ns, "create", "0x" + Integer.toHexString(key), Long.toString(bytes));
    int shmid = Integer.parseInt(firstLine(p));
    made.get(ns).add(shmid);
    if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(
          "the segment helper did not exit cleanly after creating shmid " + shmid);
    }
    return shmid;
  }

  /** A segment whose creator stays attached (nattch 1): never an orphan. Returns its shmid. */
  int attached(Ns ns, int key, long bytes) throws Exception {
    Process p = helper(ns, "create", "0x" + Integer.toHexString(key), Long.toString(bytes), "hold");
    int shmid = Integer.parseInt(firstLine(p));
    made.get(ns).add(shmid);
    return shmid;
  }

  /**
   * A System V semaphore set of two semaphores and a message queue holding one 16-byte message,
   * made inside the namespace; they go with the namespace (its last process is ours).
   */
  void semaphoreSetAndMessageQueue(Ns ns, int semKey, int queueKey) throws Exception {
    Process p =
        start(
            List.of(
                "nsenter",
                "--ipc=" + ns.nsFile(),
                "python3",
                "-c",
                """
        import ctypes, sys
        libc = ctypes.CDLL(None, use_errno=True)
        class Message(ctypes.Structure):
            _fields_ = [("mtype", ctypes.c_long), ("text", ctypes.c_char * 16)]
        sem = libc.semget(int(sys.argv[1], 0), 2, 0o1600)
        queue = libc.msgget(int(sys.argv[2], 0), 0o1600)
        sent = libc.msgsnd(queue, ctypes.byref(Message(1, b"sharedipc-e2e")), 16, 0) if queue >= 0 else -1
        print("error errno %d" % ctypes.get_errno() if min(sem, queue, sent) < 0 else "%d %d" % (sem, queue), flush=True)
        """,
                "0x" + Integer.toHexString(semKey),
                "0x" + Integer.toHexString(queueKey)));
    String ids = firstLine(p);
    if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(
          "the semaphore and queue helper did not exit cleanly after printing " + ids);
    }
  }

  /** The shmids in the namespace now, as the kernel lists them from inside it. */
  TreeSet<Integer> shmids(Ns ns) throws Exception {
    Process p =
        new ProcessBuilder("nsenter", "--ipc=" + ns.nsFile(), "cat", "/proc/sysvipc/shm")
            .redirectErrorStream(true)
            .start();
    List<String> lines;
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      lines = r.lines().toList();
    }
    if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IllegalStateException("nsenter cat /proc/sysvipc/shm failed: " + lines);
    }
    TreeSet<Integer> ids = new TreeSet<>();
    for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
      String[] f = line.trim().split("\\s+");
      if (f.length > 1) {
        ids.add(Integer.parseInt(f[1]));
      }
    }
    return ids;
  }

  /**
   * IPC_RMID of every segment this object made and that is still there (from inside its namespace),
   * then SIGKILL of every process it started. Never throws; problems are printed.
   */
  @Override
  public void close() {
    for (Map.Entry<Ns, TreeSet<Integer>> e : made.entrySet()) {
      try {
        TreeSet<Integer> left = shmids(e.getKey());
        left.retainAll(e.getValue());
        if (!left.isEmpty()) {
          List<String> cmd =
              new ArrayList<>(
                  List.of(
                      "nsenter",
                      "--ipc=" + e.getKey().nsFile(),
                      "python3",
                      "-c",
                      "import ctypes,sys\nlibc=ctypes.CDLL(None,use_errno=True)\nlibc.shmctl.argtypes=[ctypes.c_int,ctypes.c_int,ctypes.c_void_p]\n"
                          + "for a in sys.argv[1:]:\n  libc.shmctl(int(a),0,None)\n"));
          left.forEach(id -> cmd.add(Integer.toString(id)));
          Process p =
              new ProcessBuilder(cmd)
                  .redirectErrorStream(true)
                  .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                  .start();
          if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
          }
        }
      } catch (Exception ex) {
        System.err.println(
            "[e2e] could not remove the segments of namespace pid " + e.getKey().pid() + ": " + ex);
      }
    }
    made.clear();
    for (Process p : processes) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    for (Process p : processes) {
      try {
        p.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
      }
    }
    processes.clear();
  }

  private Process helper(Ns ns, String... args) throws IOException {
    List<String> cmd =
        new ArrayList<>(List.of("nsenter", "--ipc=" + ns.nsFile(), "python3", helper.toString()));
    cmd.addAll(List.of(args));
    return start(cmd);
  }

  private Process start(List<String> cmd) throws IOException {
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .start();
    processes.add(p);
    return p;
  }

  private static String firstLine(Process p) throws IOException {
    BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line = r.readLine();
    if (line == null || line.startsWith("error")) {
      throw new IllegalStateException("segment helper failed: " + line);
    }
    return line.trim();
  }

  /** The namespace file's inode (the link text is ipc:[N]). */
  static long inode(Path nsFile) {
    try {
      String text = Files.readSymbolicLink(nsFile).toString();
      return Long.parseLong(text.substring(text.indexOf('[') + 1, text.indexOf(']')));
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /**
   * Builds {@code <root>/<pid>/cgroup} naming the pod and {@code <root>/<pid>/ns/ipc} linking the
   * real namespace.
   */
  static void fixtureProcess(Path root, Ns ns, String podUid) {
    try {
      Path dir = root.resolve(Long.toString(ns.pid()));
      Files.createDirectories(dir.resolve("ns"));
      Files.createSymbolicLink(dir.resolve("ns/ipc"), Path.of(ns.nsFile()));
      // cgroup v2, systemd driver, containerd (CgroupParser's most common form)
      Files.writeString(
          dir.resolve("cgroup"),
          "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"
              + podUid.replace('-', '_')
              + ".slice/cri-containerd-"
              + "ab".repeat(32)
              + ".scope\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
