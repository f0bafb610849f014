package dev.sharedipc.agent.kernel;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The real kernel. Each namespace visit is a new platform thread that opens the namespace file,
 * checks its inode, calls setns(CLONE_NEWIPC), checks {@code /proc/thread-self/ns/ipc}, does the
 * work and ends: setns changes only the calling thread, so the JVM's other threads stay where they
 * were, and a thread that ends cannot carry the namespace into unrelated work or keep it alive.
 */
public final class LinuxKernel implements Kernel {
  /** The real procfs: kernel reads never go through a fixture root. */
  public static final Path PROC = Path.of("/proc");

  private static final long STACK_BYTES = 256 * 1024;

  @Override
  public <T> T inIpcNamespace(NamespaceRef ns, NamespaceWork<T> work) throws Exception {
    AtomicReference<T> result = new AtomicReference<>();
    AtomicReference<Exception> failure = new AtomicReference<>();
    Thread visitor =
        new Thread(
            null,
            () -> {
              try {
                join(ns);
                result.set(work.run(new Session()));
              } catch (Exception e) {
                failure.set(e);
              } catch (Error e) {
                failure.set(
                    new IllegalStateException(
                        "namespace visit of ipc:[" + ns.inode() + "] failed: " + e, e));
              }
            },
            "ipcns-" + ns.inode(),
            STACK_BYTES);
    visitor.setDaemon(true);
    visitor.start();
    visitor.join();
    if (failure.get() != null) {
      throw failure.get();
    }
    return result.get();
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
   * text as it is read; NIO's size-based whole-file reads can stop short on such files.
   */
  public static byte[] readProcFile(Path path) throws IOException {
    try (java.io.InputStream in = new java.io.FileInputStream(path.toFile())) {
      return in.readAllBytes();
    }
  }

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
