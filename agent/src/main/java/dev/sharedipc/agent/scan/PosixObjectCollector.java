package dev.sharedipc.agent.scan;

import dev.sharedipc.agent.kernel.AtFiles;
import dev.sharedipc.agent.kernel.KernelException;
import dev.sharedipc.agent.scan.OpenFileUsers.FileId;
import dev.sharedipc.agent.scan.PosixObject.FileKind;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Lists the POSIX shared-memory objects of memory-backed volumes: every entry under each volume's
 * root, read through directory descriptors ({@link AtFiles}: getdents64, then fstatat without
 * following, for the allocated blocks Java's attributes lack) and never followed (a symbolic link
 * is reported as a link, and a directory that is another mount is not entered: its files belong to
 * another volume). Directories are walked into but not reported; everything else is, so that a link
 * or a device planted in a volume shows up as what it is.
 */
public final class PosixObjectCollector {
  /** "." as a null-terminated name: the directory itself, stat'ed through its own descriptor. */
  private static final byte[] DOT = {'.', 0};

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
    AtFiles.Directory root;
    try {
      root = AtFiles.openDirectory(Path.of(volume.path()), List.of());
    } catch (KernelException e) {
      if (e.isGone()) {
        throw new NoSuchFileException(volume.path());
      }
      throw new IOException(
          volume.path()
              + " cannot be opened as a directory (a link or a file there is not followed): "
              + e.getMessage(),
          e);
    }
    try (root) {
      AtFiles.Stat top = root.lstat(DOT);
      if (top == null) {
        throw new NoSuchFileException(volume.path());
      }
      walk(volume, root, "", top.dev(), out);
    } catch (KernelException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  /**
   * One directory, read through its descriptor: a listing (getdents64) and one lstat per entry
   * relative to it, which both sorts the entry (a directory on the volume's filesystem is entered,
   * through openat with O_NOFOLLOW; one on another filesystem is not) and describes it. Nothing is
   * resolved from a path again, so no link is followed on the way, and no Path is made per entry.
   * An entry unlinked meanwhile is skipped.
   */
  private static void walk(
      MemoryVolume volume,
      AtFiles.Directory dir,
      String prefix,
      long rootDev,
      List<PosixObject> out)
      throws KernelException {
    dir.forEach(
        (name, length) -> {
          AtFiles.Stat st = dir.lstat(name);
          if (st == null) {
            return;
          }
          String relative = prefix + AtFiles.name(name, length);
          if ((st.mode() & 0170000) == 0040000) {
            if (st.dev() == rootDev) {
              try (AtFiles.Directory sub = dir.open(name)) {
                if (sub != null) {
                  walk(volume, sub, relative + "/", rootDev, out);
                }
              }
            }
            return;
          }
          out.add(object(volume, relative, st));
        });
  }

  private static PosixObject object(MemoryVolume volume, String relative, AtFiles.Stat st) {
    FileKind kind =
        switch (st.mode() & 0170000) {
          case 0100000 -> FileKind.Regular;
          case 0040000 -> FileKind.Directory;
          case 0120000 -> FileKind.SymbolicLink;
          default -> FileKind.Other;
        };
    return new PosixObject(
        volume,
        relative,
        kind,
        FileId.of(st.dev(), st.ino()),
        st.allocatedBytes(),
        st.size(),
        st.uid(),
        st.gid(),
        st.mode() & 07777,
        st.mtimeNanos(),
        st.ctimeNanos());
  }
}
