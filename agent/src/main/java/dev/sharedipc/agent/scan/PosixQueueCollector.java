package dev.sharedipc.agent.scan;

import dev.sharedipc.agent.kernel.FsUsage;
import dev.sharedipc.agent.kernel.Kernel;
import dev.sharedipc.agent.kernel.KernelException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Lists the POSIX message queues of one IPC namespace. The kernel keeps them in an mqueue filesystem
 * of that namespace, which has no path of its own on the host: the agent reads it where a process of
 * the namespace sees it, {@code <proc-root>/<pid>/root/dev/mqueue} (containerd, CRI-O and Docker
 * mount the container's own mqueue filesystem there; the walk through {@code /proc/<pid>/root}
 * follows that process's mounts). Only a directory whose statfs type is mqueue counts. When no
 * process of the namespace shows one, the queues are unknown and {@link Result#unreadable()} says
 * why: that is never reported as "no queues". Queue files are read (their content is one line,
 * {@code QSIZE:N NOTIFY:... }, which has no side effect) and never followed, changed or removed.
 */
public final class PosixQueueCollector {
  /** statfs f_type of the mqueue filesystem (linux/magic.h). */
  public static final long MQUEUE_MAGIC = 0x19800202L;
  /** Processes tried per namespace: any one that shows the filesystem is enough. */
  static final int MAX_TRIES = 8;

  /** The queues, or why they could not be listed ({@code unreadable} null when they were). */
  public record Result(List<PosixQueue> queues, String unreadable) {}

  private final Kernel kernel;
  private final Path procRoot;

  public PosixQueueCollector(Kernel kernel, Path procRoot) {
    this.kernel = kernel;
    this.procRoot = procRoot;
  }

  public Result collect(IpcNamespace ns) {
    int tried = 0;
    String lastError = null;
    for (int pid : ns.pids()) {
      if (tried++ == MAX_TRIES) {
        break;
      }
      Path dir = procRoot.resolve(Integer.toString(pid)).resolve("root/dev/mqueue");
      try {
        FsUsage fs = kernel.statfs(dir).orElse(null);
        if (fs == null || fs.type() != MQUEUE_MAGIC) {
          continue;
        }
        return new Result(list(ns.inode(), dir), null);
      } catch (KernelException | IOException e) {
        lastError = e.getMessage(); // the process left, or its root is not ours to read: try the next one
      }
    }
    return new Result(List.of(), "POSIX message queues of ipc:[" + ns.inode() + "] are unknown: none of the "
        + Math.min(tried, MAX_TRIES) + " process(es) tried shows an mqueue filesystem at /dev/mqueue"
        + (lastError == null ? " (its runtime mounted none there)" : " (last error: " + lastError + ")"));
  }

  private static List<PosixQueue> list(long inode, Path dir) throws IOException {
    List<PosixQueue> out = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path file : entries) {
        Map<String, Object> a;
        try {
          a = Files.readAttributes(file, "unix:mode,uid,gid,lastModifiedTime,ctime", LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.NoSuchFileException e) {
          continue; // unlinked while listed
        }
        int mode = (Integer) a.get("mode");
        if ((mode & 0170000) != 0100000) {
          continue; // an mqueue filesystem holds only queues; anything else is not one
        }
        long queued;
        try {
          queued = qsize(Files.readAllBytes(file));
        } catch (java.nio.file.NoSuchFileException e) {
          continue;
        }
        out.add(new PosixQueue(inode, "/" + file.getFileName(), (Integer) a.get("uid"), (Integer) a.get("gid"), mode, queued,
            ((FileTime) a.get("lastModifiedTime")).toMillis() / 1000, ((FileTime) a.get("ctime")).toMillis() / 1000,
            file.toString()));
      }
    }
    out.sort(java.util.Comparator.comparing(PosixQueue::name));
    return out;
  }

  /** QSIZE from a queue file's content ({@code QSIZE:129 NOTIFY:0 SIGNO:0 NOTIFY_PID:0}), -1 when absent. */
  static long qsize(byte[] content) {
    String text = new String(content, StandardCharsets.US_ASCII);
    int at = text.indexOf("QSIZE:");
    if (at < 0) {
      return -1;
    }
    int i = at + "QSIZE:".length();
    long v = 0;
    int digits = 0;
    while (i < text.length() && Character.isDigit(text.charAt(i)) && digits < 19) {
      v = v * 10 + (text.charAt(i++) - '0');
      digits++;
    }
    return digits == 0 ? -1 : v;
  }
}
