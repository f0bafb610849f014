package dev.sharedipc.agent.scan;

import dev.sharedipc.agent.kernel.AtFiles;
import dev.sharedipc.agent.scan.OpenFileUsers.FileId;
import dev.sharedipc.agent.scan.PosixObject.FileKind;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
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
    long rootDev = (Long) Files.getAttribute(root, "unix:dev", LinkOption.NOFOLLOW_LINKS);
    Files.walkFileTree(root, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
        if (dir.equals(root)) {
          return FileVisitResult.CONTINUE;
        }
        long dev = (Long) Files.getAttribute(dir, "unix:dev", LinkOption.NOFOLLOW_LINKS);
        return dev == rootDev ? FileVisitResult.CONTINUE : FileVisitResult.SKIP_SUBTREE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        try {
          out.add(object(volume, root, file));
        } catch (NoSuchFileException e) {
          // unlinked while listing
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
        if (e instanceof NoSuchFileException) {
          return FileVisitResult.CONTINUE;
        }
        throw e;
      }
    });
  }

  private static PosixObject object(MemoryVolume volume, Path root, Path file) throws IOException {
    AtFiles.Stat st = AtFiles.lstat(file.toString());
    if (st == null) {
      if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
        throw new NoSuchFileException(file.toString());
      }
      throw new IOException("lstat(" + file + ") failed");
    }
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
