package dev.sharedipc.agent.testing;

import dev.sharedipc.agent.kernel.LinuxKernel;
import dev.sharedipc.agent.kernel.NamespaceRef;
import dev.sharedipc.agent.scan.NamespaceCollector;
import dev.sharedipc.agent.scan.Segment;
import dev.sharedipc.agent.scan.SysvShmParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Real IPC namespaces for integration tests: each is an {@code unshare --ipc sleep} process the
 * test owns, with segments made inside it by {@code nsenter --ipc} + python3 (so creators are real
 * processes of that namespace, which can be left running, attached, or gone). Closing kills every
 * process it started; a namespace dies with its last process and its segments with it, so nothing
 * is left behind and nothing outside these namespaces is ever touched.
 */
public final class RealNamespaces implements AutoCloseable {
  private static final Path HOST_NS = Path.of("/proc/self/ns/ipc");
  private final List<Process> processes = new ArrayList<>();
  private final Path helper;

  public RealNamespaces() {
    Root.require();
    Root.requireTool("unshare");
    Root.requireTool("nsenter");
    Root.requireTool("python3");
    try (InputStream in = RealNamespaces.class.getResourceAsStream("/shm_helper.py")) {
      helper = Files.createTempFile("shm_helper", ".py");
      Files.copy(in, helper, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** One namespace: the pid of its holder and its inode. */
  public record Ns(long pid, long inode) {
    public NamespaceRef ref() {
      return new NamespaceRef(inode, List.of(Path.of("/proc/" + pid + "/ns/ipc")));
    }
  }

  public Ns newNamespace() throws Exception {
    Process p = start("unshare", "--ipc", "sleep", "600");
    long host = NamespaceCollector.nsInode(HOST_NS);
    Path ns = Path.of("/proc/" + p.pid() + "/ns/ipc");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      long inode = NamespaceCollector.nsInode(ns);
      if (inode > 0 && inode != host) {
        return new Ns(p.pid(), inode);
      }
      Thread.sleep(10);
    }
    throw new IllegalStateException(
        "unshare --ipc (pid " + p.pid() + ") did not enter a new IPC namespace within 10s");
  }

  /** A segment whose creator has exited. Returns its shmid. */
  public int orphan(Ns ns, int key, long bytes) throws Exception {
    Process p = helper(ns, "create", hex(key), Long.toString(bytes));
    int shmid = Integer.parseInt(firstLine(p));
    if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("helper create did not exit cleanly");
    }
    return shmid;
  }

  /** A segment whose creator stays attached. */
  public Handle attached(Ns ns, int key, long bytes) throws Exception {
    Process p = helper(ns, "create", hex(key), Long.toString(bytes), "hold");
    return new Handle(Integer.parseInt(firstLine(p)), p);
  }

  /** A segment whose creator stays alive without attaching. */
  public Handle live(Ns ns, int key, long bytes) throws Exception {
    Process p = helper(ns, "create", hex(key), Long.toString(bytes), "live");
    return new Handle(Integer.parseInt(firstLine(p)), p);
  }

  /** Another process attached to an existing segment. */
  public Handle attach(Ns ns, int shmid) throws Exception {
    Process p = helper(ns, "attach", Integer.toString(shmid));
    String line = firstLine(p);
    if (!line.equals("attached")) {
      throw new IllegalStateException("attach failed: " + line);
    }
    return new Handle(shmid, p);
  }

  /**
   * Removes the segment with this key and creates a new one with the same key; returns the new
   * shmid.
   */
  public int recreate(Ns ns, int key, long bytes) throws Exception {
    Process p = helper(ns, "recreate", hex(key), Long.toString(bytes));
    int shmid = Integer.parseInt(firstLine(p));
    p.waitFor(10, TimeUnit.SECONDS);
    return shmid;
  }

  /** What the kernel says is in the namespace right now (read from inside it). */
  public List<Segment> segments(Ns ns) throws Exception {
    return new LinuxKernel()
        .inIpcNamespace(ns.ref(), s -> SysvShmParser.parse(ns.inode(), s.readSysvShm()).segments());
  }

  public List<Integer> shmids(Ns ns) throws Exception {
    return segments(ns).stream().map(Segment::shmid).sorted().toList();
  }

  /** A process the test started; kill it to make a creator or attacher go away. */
  public record Handle(int shmid, Process process) {
    public void kill() throws InterruptedException {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }

  public void kill(Ns ns) throws InterruptedException {
    for (Process p : processes) {
      if (p.pid() == ns.pid()) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  private Process helper(Ns ns, String... args) throws IOException {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "nsenter", "--ipc=/proc/" + ns.pid() + "/ns/ipc", "python3", helper.toString()));
    cmd.addAll(List.of(args));
    return start(cmd.toArray(String[]::new));
  }

  private Process start(String... cmd) throws IOException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
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

  private static String hex(int key) {
    return "0x" + Integer.toHexString(key);
  }

  @Override
  public void close() throws Exception {
    for (Process p : processes) {
      p.destroyForcibly();
    }
    for (Process p : processes) {
      p.waitFor(10, TimeUnit.SECONDS);
    }
    processes.clear();
    Files.deleteIfExists(helper);
  }

  public static Duration timeout() {
    return Duration.ofSeconds(10);
  }
}
