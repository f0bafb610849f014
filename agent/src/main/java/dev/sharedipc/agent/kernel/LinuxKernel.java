package dev.sharedipc.agent.kernel;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real kernel. Namespace visits run on a few dedicated visitor threads ({@link #VISITORS}): a
 * visit opens the namespace file, checks its inode, calls setns(CLONE_NEWIPC), checks {@code
 * /proc/thread-self/ns/ipc}, does the work, and then returns the thread to the agent's own
 * namespace and checks that too. setns changes only the calling thread, so the JVM's other threads
 * stay where they were; a visitor runs nothing but visits, so it never carries a namespace into
 * unrelated work, and it holds none alive between visits. A visitor that cannot return home ends
 * instead of being used again. Reusing the threads saves a thread start and exit per namespace and
 * per removal, a tenth of a warm scan's CPU (agent/bench/scan-bench.sh).
 */
public final class LinuxKernel implements Kernel {
  private static final Logger log = LoggerFactory.getLogger(LinuxKernel.class);

  /** The real procfs: kernel reads never go through a fixture root. */
  public static final Path PROC = Path.of("/proc");

  private static final long STACK_BYTES = 256 * 1024;

  /**
   * The agent's own IPC namespace, where every visitor returns: the main thread's, which never
   * joins another. Opened once and kept open (close-on-exec) so that the way back cannot disappear.
   */
  private static final Home HOME = Home.open();

  /**
   * At most two visits at once: the work is syscalls and parsing, and a node agent should not take
   * every core. Further visits wait in line (a scan starts one per namespace at once). Idle
   * visitors end after a minute, so an agent between passes keeps none.
   */
  private static final ThreadPoolExecutor VISITORS =
      new ThreadPoolExecutor(
          2,
          2,
          1,
          TimeUnit.MINUTES,
          new LinkedBlockingQueue<>(),
          r -> {
            Thread t = new Thread(null, r, "ipcns-visitor", STACK_BYTES);
            t.setDaemon(true);
            t.setUncaughtExceptionHandler(
                (thread, e) -> log.error("namespace visitor ended reason=\"{}\"", e.getMessage()));
            return t;
          });

  static {
    VISITORS.allowCoreThreadTimeOut(true);
  }

  /**
   * Set on visitor threads, so that a visit never waits for another visit (which could deadlock).
   */
  private static final ThreadLocal<Boolean> VISITING = ThreadLocal.withInitial(() -> false);

  @Override
  public <T> CompletableFuture<T> startInIpcNamespace(NamespaceRef ns, NamespaceWork<T> work) {
    if (VISITING.get()) {
      throw new IllegalStateException(
          "a namespace visit may not start another (ipc:[" + ns.inode() + "] from a visitor)");
    }
    CompletableFuture<T> outcome = new CompletableFuture<>();
    VISITORS.execute(() -> visit(ns, work, outcome));
    return outcome;
  }

  @Override
  public <T> T inIpcNamespace(NamespaceRef ns, NamespaceWork<T> work) throws Exception {
    CompletableFuture<T> outcome = startInIpcNamespace(ns, work);
    try {
      return outcome.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Exception cause) {
        throw cause;
      }
      throw new IllegalStateException(
          "namespace visit of ipc:[" + ns.inode() + "] failed: " + e.getCause(), e.getCause());
    }
  }

  /**
   * One visit on a visitor thread. The thread is back home before the caller learns the outcome, so
   * no thread of the agent is in the namespace once the call returns; when it cannot return, the
   * outcome is still given and the thread then ends with the error (the pool starts a new one for
   * the next visit).
   */
  private static <T> void visit(
      NamespaceRef ns, NamespaceWork<T> work, CompletableFuture<T> outcome) {
    T result = null;
    Throwable failure = null;
    VISITING.set(true);
    try {
      join(ns);
      result = work.run(new Session());
    } catch (Throwable e) {
      failure = e;
    } finally {
      VISITING.set(false);
    }
    try {
      HOME.returnTo(ns);
    } finally {
      if (failure == null) {
        outcome.complete(result);
      } else {
        outcome.completeExceptionally(failure);
      }
    }
  }

  /** The agent's own IPC namespace: an open file of it, and its inode. */
  private record Home(int fd, long inode) {
    static Home open() {
      Path own = PROC.resolve("self/ns/ipc");
      int fd = LibC.open(own.toString(), LibC.O_RDONLY | LibC.O_CLOEXEC);
      if (fd < 0) {
        int errno = Native.getLastError();
        throw new IllegalStateException(
            "cannot open " + own + ": " + Errno.name(errno) + " (" + Errno.describe(errno) + ")");
      }
      return new Home(fd, inodeOfFd(fd));
    }

    /**
     * Brings the calling visitor back; throws (ending the thread) when it cannot be sure it is
     * home.
     */
    void returnTo(NamespaceRef visited) {
      if (currentThreadIpcInode() == inode) {
        return; // never left: the join failed before setns
      }
      if (LibC.setns(fd, LibC.CLONE_NEWIPC) < 0) {
        int errno = Native.getLastError();
        throw new IllegalStateException(
            "a visitor cannot return from ipc:["
                + visited.inode()
                + "] to the agent's ipc:["
                + inode
                + "]: setns failed with "
                + Errno.name(errno)
                + "; the thread ends");
      }
      long now = currentThreadIpcInode();
      if (now != inode) {
        throw new IllegalStateException(
            "a visitor returning from ipc:["
                + visited.inode()
                + "] is in ipc:["
                + now
                + "], not the agent's ipc:["
                + inode
                + "]; the thread ends");
      }
    }
  }

  /** Joins the namespace through the first of its files that still leads to it. */
  private static void join(NamespaceRef ns) throws NamespaceUnavailableException {
    StringBuilder tried = new StringBuilder();
    for (Path file : ns.nsFiles()) {
      int fd = LibC.open(file.toString(), LibC.O_RDONLY | LibC.O_CLOEXEC);
      if (fd < 0) {
        int errno = Native.getLastError();
        tried.append(' ').append(file).append(": ").append(Errno.name(errno)).append(';');
        if (errno == LibC.EPERM || errno == LibC.EACCES) {
          throw new NamespaceUnavailableException(
              "cannot open "
                  + file
                  + ": "
                  + Errno.name(errno)
                  + " (the agent needs CAP_SYS_PTRACE to open other processes' namespaces: run it as root)",
              false);
        }
        continue;
      }
      try {
        long inode = inodeOfFd(fd);
        if (inode != ns.inode()) {
          // the pid was reused by a process of another namespace since discovery
          tried.append(' ').append(file).append(": now ipc:[").append(inode).append("];");
          continue;
        }
        if (LibC.setns(fd, LibC.CLONE_NEWIPC) < 0) {
          int errno = Native.getLastError();
          throw new NamespaceUnavailableException(
              "setns("
                  + file
                  + ", CLONE_NEWIPC) failed: "
                  + Errno.name(errno)
                  + " ("
                  + Errno.describe(errno)
                  + "); the agent needs CAP_SYS_ADMIN over the namespace's user namespace",
              false);
        }
      } finally {
        LibC.close(fd);
      }
      long joined = currentThreadIpcInode();
      if (joined != ns.inode()) {
        throw new IllegalStateException(
            "after setns into ipc:[" + ns.inode() + "] this thread is in ipc:[" + joined + "]");
      }
      return;
    }
    throw new NamespaceUnavailableException(
        "ipc:[" + ns.inode() + "] is gone (no process left in it:" + tried + ")", true);
  }

  private static long inodeOfFd(int fd) {
    try {
      return (Long) Files.getAttribute(PROC.resolve("thread-self/fd/" + fd), "unix:ino");
    } catch (IOException e) {
      return -1;
    }
  }

  /** The IPC namespace inode of the calling thread. */
  public static long currentThreadIpcInode() {
    try {
      return parseNsLink(Files.readSymbolicLink(PROC.resolve("thread-self/ns/ipc")).toString());
    } catch (IOException e) {
      throw new IllegalStateException("cannot read /proc/thread-self/ns/ipc: " + e.getMessage(), e);
    }
  }

  /** The inode in a namespace link text such as {@code ipc:[4026531839]}, or -1. */
  public static long parseNsLink(String text) {
    int open = text.indexOf('[');
    int close = text.lastIndexOf(']');
    if (!text.startsWith("ipc:") || open < 0 || close <= open + 1) {
      return -1;
    }
    try {
      return Long.parseLong(text.substring(open + 1, close));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * Reads a procfs file to its end with plain read(2) calls. procfs reports size 0 and generates
   * text as it is read; NIO's size-based whole-file reads can stop short on such files. The text is
   * read into a scratch buffer kept per thread (up to {@link #SCRATCH_KEPT} bytes; a longer text
   * grows a buffer for that read only) and returned as one array of its exact length: a scan reads
   * one such file per namespace, and growing a fresh buffer each time doubled its garbage.
   */
  public static byte[] readProcFile(Path path) throws IOException {
    try (java.io.InputStream in = new java.io.FileInputStream(path.toFile())) {
      byte[] buf = SCRATCH.get();
      int n = 0;
      for (int r; (r = in.read(buf, n, buf.length - n)) > 0; ) {
        n += r;
        if (n == buf.length) {
          buf = java.util.Arrays.copyOf(buf, buf.length * 2);
        }
      }
      return java.util.Arrays.copyOf(buf, n);
    }
  }

  /** The scratch buffer kept per thread by {@link #readProcFile}. */
  static final int SCRATCH_KEPT = 64 * 1024;

  private static final ThreadLocal<byte[]> SCRATCH =
      ThreadLocal.withInitial(() -> new byte[SCRATCH_KEPT]);

  @Override
  public Optional<ShmLimits> limits() {
    try {
      return Optional.of(Sysv.limits());
    } catch (KernelException | LinkageError e) {
      return Optional.empty();
    }
  }

  @Override
  public Optional<FsUsage> statfs(Path path) throws KernelException {
    Memory buf = new Memory(Layout.STATFS_SIZE);
    if (LibC.statfs(path.toString(), buf) < 0) {
      int errno = Native.getLastError();
      if (errno == LibC.ENOENT) {
        return Optional.empty();
      }
      throw new KernelException(
          "statfs(" + path + ")",
          errno,
          errno == LibC.EACCES || errno == LibC.EPERM ? "run the agent as root" : "");
    }
    long frsize = buf.getLong(Layout.STATFS_FRSIZE);
    long block = frsize > 0 ? frsize : buf.getLong(Layout.STATFS_BSIZE);
    long blocks = buf.getLong(Layout.STATFS_BLOCKS);
    long free = buf.getLong(Layout.STATFS_BFREE);
    long avail = buf.getLong(Layout.STATFS_BAVAIL);
    long device;
    try {
      device = ((Number) Files.getAttribute(path, "unix:dev")).longValue();
    } catch (NoSuchFileException e) {
      return Optional.empty(); // unmounted or its process left between the two calls
    } catch (IOException | UnsupportedOperationException e) {
      device = -1;
    }
    return Optional.of(
        new FsUsage(
            buf.getLong(Layout.STATFS_TYPE),
            blocks * block,
            (blocks - free) * block,
            avail * block,
            device));
  }

  private static final class Session implements NamespaceSession {
    @Override
    public byte[] readSysvShm() throws IOException {
      return readSysvipc("shm");
    }

    @Override
    public byte[] readSysvSem() throws IOException {
      return readSysvipc("sem");
    }

    @Override
    public byte[] readSysvMsg() throws IOException {
      return readSysvipc("msg");
    }

    /**
     * /proc/sysvipc/{shm,sem,msg} lists only the reading thread's IPC namespace, which is why this
     * runs on the joined thread.
     */
    private static byte[] readSysvipc(String table) throws IOException {
      try {
        return readProcFile(PROC.resolve("sysvipc/" + table));
      } catch (NoSuchFileException | java.io.FileNotFoundException e) {
        throw new IOException(
            "/proc/sysvipc/"
                + table
                + " does not exist: the kernel was built without CONFIG_SYSVIPC",
            e);
      }
    }

    @Override
    public ShmStat stat(int shmid) throws KernelException {
      return Sysv.stat(shmid);
    }

    @Override
    public void remove(int shmid) throws KernelException {
      Sysv.remove(shmid);
    }
  }
}
