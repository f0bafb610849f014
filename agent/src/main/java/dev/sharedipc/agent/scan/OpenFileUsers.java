package dev.sharedipc.agent.scan;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * File identities, and the identities of everything under a directory: what {@link FileUsersIndex}
 * (the one read of who has files open, mapped, or as working directory) is joined on. Identity
 * (device and inode) rather than path: a process in a container sees a hostPath directory under
 * another path, but the inode is the same.
 */
public final class OpenFileUsers {
  /** A file's identity: the device as major and minor, and the inode. */
  public record FileId(long major, long minor, long inode) {
    /** From {@code st_dev} as glibc encodes it (what Java's {@code unix:dev} returns). */
    public static FileId of(long dev, long inode) {
      long major = ((dev >>> 8) & 0xfffL) | ((dev >>> 32) & ~0xfffL);
      long minor = (dev & 0xffL) | ((dev >>> 12) & ~0xffL);
      return new FileId(major, minor, inode);
    }
  }

  /**
   * A directory to look for: its real path and the identities of everything under it (itself
   * included).
   */
  public record Target(String realPath, Set<FileId> files) {}

  private OpenFileUsers() {}

  /** Walks {@code realDir} without following symbolic links, collecting identities. */
  public static Target target(Path realDir) throws IOException {
    Set<FileId> ids = new HashSet<>();
    Files.walkFileTree(
        realDir,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs)
              throws IOException {
            add(dir);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            add(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
            if (e instanceof NoSuchFileException) {
              return FileVisitResult.CONTINUE;
            }
            throw e;
          }

          private void add(Path p) throws IOException {
            try {
              Map<String, Object> a =
                  Files.readAttributes(p, "unix:dev,ino", LinkOption.NOFOLLOW_LINKS);
              ids.add(FileId.of((Long) a.get("dev"), (Long) a.get("ino")));
            } catch (NoSuchFileException e) {
              // removed while walking
            }
          }
        });
    return new Target(realDir.toString(), ids);
  }
}
