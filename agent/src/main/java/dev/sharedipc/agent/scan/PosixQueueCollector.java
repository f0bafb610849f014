package dev.sharedipc.agent.scan;

import dev.sharedipc.agent.kernel.FsUsage;
import dev.sharedipc.agent.kernel.Kernel;
import dev.sharedipc.agent.kernel.KernelException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Lists the POSIX message queues of one IPC namespace. The kernel keeps them in an mqueue
 * filesystem of that namespace, which has no path of its own on the host: the agent reads it where
 * a process of the namespace sees it, {@code <proc-root>/<pid>/root/dev/mqueue} (containerd, CRI-O
 * and Docker mount the container's own mqueue filesystem there; the walk through {@code
 * /proc/<pid>/root} follows that process's mounts). Only a directory whose statfs type is mqueue
 * counts. When no process of the namespace shows one, the queues are unknown and {@link
 * Result#unreadable()} says why: that is never reported as "no queues". Queue files are read (their
 * content is one line, {@code QSIZE:N NOTIFY:... }, which has no side effect) and never followed,
 * changed or removed.
 */
public final class PosixQueueCollector {
  /** statfs f_type of the mqueue filesystem (linux/magic.h). */
  public static final long MQUEUE_MAGIC = 0x19800202L;

  /** Processes tried per namespace: any one that shows the filesystem is enough. */
  static final int MAX_TRIES = 8;

  /** Queues listed per namespace at most (the kernel's default fs.mqueue.queues_max is 256). */
  static final int MAX_QUEUES = 4096;

  /** Bytes read of a queue file: its content is one line of about 60. */
  static final int MAX_READ = 256;

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
        return new Result(list(ns.inode(), dir, fs.device()), null);
      } catch (KernelException | IOException e) {
        lastError =
            e.getMessage(); // the process left, or its root is not ours to read: try the next one
      }
    }
    return new Result(
        List.of(),
        "POSIX message queues of ipc:["
            + ns.inode()
            + "] are unknown: none of the "
            + Math.min(tried, MAX_TRIES)
            + " process(es) tried shows an mqueue filesystem at /dev/mqueue"
            + (lastError == null
                ? " (its runtime mounted none there)"
                : " (last error: " + lastError + ")"));
  }

  /**
   * Lists the directory through one open descriptor ({@link SecureDirectoryStream}): each entry is
   * examined and read relative to it with no link followed, only regular files on the mqueue
   * filesystem's own device count (the path was checked by statfs; a process of the pod that swaps
   * {@code /dev/mqueue} for a link to the host's files between that check and the open gets nothing
   * read), and at most {@link #MAX_READ} bytes of each are read.
   */
  private static List<PosixQueue> list(long inode, Path dir, long mqueueDevice) throws IOException {
    List<PosixQueue> out = new ArrayList<>();
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
      if (!(stream instanceof SecureDirectoryStream<Path> secure)) {
        throw new IOException(
            "cannot list "
                + dir
                + " without following links on this platform (no SecureDirectoryStream)");
      }
      long dirDevice =
          device(secure.getFileAttributeView(BasicFileAttributeView.class).readAttributes());
      if (mqueueDevice < 0 || dirDevice != mqueueDevice) {
        throw new IOException(
            dir
                + " changed while it was opened (device "
                + dirDevice
                + ", mqueue device "
                + mqueueDevice
                + ")");
      }
      for (Path entry : secure) {
        if (out.size() == MAX_QUEUES) {
          break;
        }
        Path name = entry.getFileName();
        PosixFileAttributes a;
        try {
          a =
              secure
                  .getFileAttributeView(
                      name, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                  .readAttributes();
        } catch (java.nio.file.NoSuchFileException e) {
          continue; // unlinked while listed
        }
        if (!a.isRegularFile() || device(a) != dirDevice) {
          continue; // an mqueue filesystem holds only queues; anything else is not one
        }
        long queued;
        try (SeekableByteChannel ch =
            secure.newByteChannel(
                name, Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS))) {
          ByteBuffer buf = ByteBuffer.allocate(MAX_READ);
          while (buf.hasRemaining() && ch.read(buf) > 0) {
            // a queue file's content is one short line
          }
          queued = qsize(java.util.Arrays.copyOf(buf.array(), buf.position()));
        } catch (java.nio.file.NoSuchFileException e) {
          continue;
        }
        Map<String, Object> ids =
            Files.readAttributes(entry, "unix:uid,gid,mode,ctime", LinkOption.NOFOLLOW_LINKS);
        out.add(
            new PosixQueue(
                inode,
                "/" + name,
                (Integer) ids.get("uid"),
                (Integer) ids.get("gid"),
                (Integer) ids.get("mode"),
                queued,
                a.lastModifiedTime().toMillis() / 1000,
                ((FileTime) ids.get("ctime")).toMillis() / 1000,
                entry.toString()));
      }
    }
    out.sort(java.util.Comparator.comparing(PosixQueue::name));
    return out;
  }

  /**
   * st_dev from a file key, which OpenJDK on Linux prints as {@code (dev=803,ino=1234)}; -1 when it
   * does not.
   */
  static long device(BasicFileAttributes a) {
    Object key = a.fileKey();
    String text = key == null ? "" : key.toString();
    int at = text.indexOf("dev=");
    if (at < 0) {
      return -1;
    }
    int end = at + 4;
    while (end < text.length() && Character.isLetterOrDigit(text.charAt(end))) {
      end++;
    }
    try {
      return Long.parseLong(text.substring(at + 4, end), 16);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * QSIZE from a queue file's content ({@code QSIZE:129 NOTIFY:0 SIGNO:0 NOTIFY_PID:0}), -1 when
   * absent.
   */
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
