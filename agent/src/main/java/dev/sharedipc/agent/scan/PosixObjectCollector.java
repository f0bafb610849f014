package dev.sharedipc.agent.scan;

import dev.sharedipc.agent.kernel.AtFiles;
import dev.sharedipc.agent.scan.OpenFileUsers.FileId;
import dev.sharedipc.agent.scan.PosixObject.FileKind;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Lists the POSIX shared-memory objects of memory-backed volumes: every entry under each volume's
 * root, read with {@code lstat} ({@link AtFiles}: Java's attributes lack the allocated blocks) and never followed (a symbolic link is reported as a link, and a
 * directory that is another mount is not entered: its files belong to another volume). Directories
 * are walked into but not reported; everything else is, so that a link or a device planted in a
 * volume shows up as what it is.
 */
public final class PosixObjectCollector {
  private PosixObjectCollector() {}

  /**
   * @param volumes the volumes to list (their {@code path} is walked)
   * @param problems where to note a volume that could not be read
   */
  public static List<PosixObject> collect(List<MemoryVolume> volumes, List<String> problems) {
    List<PosixObject> out = new ArrayList<>();
    for (MemoryVolume v : volumes) {
      try {
        walk(v, out);
      } catch (NoSuchFileException e) {
        // the pod went away between finding the volume and listing it
      } catch (IOException | RuntimeException e) {
        problems.add("cannot list the objects of " + v.kind() + " volume " + v.path() + ": " + e);
      }
    }
    return out;
  }

  private static void walk(MemoryVolume volume, List<PosixObject> out) throws IOException {
    Path root = Path.of(volume.path());
    AtFiles.Stat top = stat(root);
    if ((top.mode() & 0170000) != 0040000) {
      throw new IOException(root + " is not a directory (a link or a file there is not followed)");
    }
    walk(volume, root, root, top.dev(), out);
  }

  /**
   * One directory: a plain listing (no stat by the JDK) and one lstat per entry, which both sorts
   * the entry (a directory on the volume's filesystem is entered, one on another is not) and
   * describes it. A file unlinked meanwhile is skipped.
   */
  private static void walk(MemoryVolume volume, Path root, Path dir, long rootDev, List<PosixObject> out) throws IOException {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path entry : entries) {
        AtFiles.Stat st;
        try {
          st = stat(entry);
        } catch (NoSuchFileException e) {
          continue;
        }
        if ((st.mode() & 0170000) == 0040000) {
          if (st.dev() == rootDev) {
            walk(volume, root, entry, rootDev, out);
          }
          continue;
        }
        out.add(object(volume, root, entry, st));
      }
    } catch (NoSuchFileException e) {
      if (dir.equals(root)) {
        throw e;
      }
    }
  }

  private static AtFiles.Stat stat(Path path) throws IOException {
    AtFiles.Stat st = AtFiles.lstat(path.toString());
    if (st == null) {
      if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
        throw new NoSuchFileException(path.toString());
      }
      throw new IOException("lstat(" + path + ") failed");
    }
    return st;
  }

  private static PosixObject object(MemoryVolume volume, Path root, Path file, AtFiles.Stat st) {
    FileKind kind = switch (st.mode() & 0170000) {
      case 0100000 -> FileKind.Regular;
      case 0040000 -> FileKind.Directory;
      case 0120000 -> FileKind.SymbolicLink;
      default -> FileKind.Other;
    };
    return new PosixObject(volume, root.relativize(file).toString(), kind, FileId.of(st.dev(), st.ino()), st.allocatedBytes(),
        st.size(), st.uid(), st.gid(), st.mode() & 07777, st.mtimeNanos(), st.ctimeNanos());
  }
}
