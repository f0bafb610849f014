package dev.sharedipc.agent.scan;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which processes have a file under some directories open, mapped, or as their working directory:
 * every {@code <proc>/<pid>/fd/*}, {@code cwd} and {@code maps} line. A file matches by path (the
 * link text or the maps path starts with the directory's real path) or by identity (device and
 * inode, collected by walking the directory): a process in a container sees a hostPath directory
 * under another path, so its link texts do not name the host path, but the inode is the same.
 *
 * <p>Pids that exit during the scan are skipped. A pid whose fd table or maps cannot be read for
 * another reason (permissions, I/O) makes the answer unknown rather than "nobody": callers keep
 * the directory.
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

  /** A directory to look for: its real path and the identities of everything under it (itself included). */
  public record Target(String realPath, Set<FileId> files) {
    boolean containsPath(String p) {
      return p.equals(realPath) || p.startsWith(realPath.endsWith("/") ? realPath : realPath + "/");
    }
  }

  /** Users per target real path (targets without users map to an empty set), or why they are not known. */
  public record Result(Map<String, Set<Integer>> users, String unknown) {}

  private OpenFileUsers() {}

  /** Walks {@code realDir} without following symbolic links, collecting identities. */
  public static Target target(Path realDir) throws IOException {
    Set<FileId> ids = new HashSet<>();
    Files.walkFileTree(realDir, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
        add(dir);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
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
          Map<String, Object> a = Files.readAttributes(p, "unix:dev,ino", LinkOption.NOFOLLOW_LINKS);
          ids.add(FileId.of((Long) a.get("dev"), (Long) a.get("ino")));
        } catch (NoSuchFileException e) {
          // removed while walking
        }
      }
    });
    return new Target(realDir.toString(), ids);
  }

  /** Scans every pid under each proc root (duplicates across roots are harmless). */
  public static Result scan(List<Path> procRoots, List<Target> targets) {
    Map<String, Set<Integer>> users = new HashMap<>();
    for (Target t : targets) {
      users.put(t.realPath(), new HashSet<>());
    }
    if (targets.isEmpty()) {
      return new Result(users, null);
    }
    for (Path root : new LinkedHashSet<>(procRoots)) {
      try (DirectoryStream<Path> pids = Files.newDirectoryStream(root, p -> isPid(p.getFileName().toString()))) {
        for (Path pidDir : pids) {
          String problem = scanPid(pidDir, targets, users);
          if (problem != null) {
            return new Result(null, problem);
          }
        }
      } catch (IOException | RuntimeException e) {
        return new Result(null, "cannot list processes under " + root + ": " + e);
      }
    }
    return new Result(users, null);
  }

  private static String scanPid(Path pidDir, List<Target> targets, Map<String, Set<Integer>> users) {
    int pid = Integer.parseInt(pidDir.getFileName().toString());
    List<Path> links = new ArrayList<>();
    links.add(pidDir.resolve("cwd"));
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(pidDir.resolve("fd"))) {
      fds.forEach(links::add);
    } catch (NoSuchFileException e) {
      return null; // exited
    } catch (AccessDeniedException e) {
      return "cannot read the open files of pid " + pid + " (" + pidDir.resolve("fd") + "): permission denied (the agent needs root)";
    } catch (IOException | RuntimeException e) {
      if (!Files.exists(pidDir)) {
        return null;
      }
      return "cannot read the open files of pid " + pid + ": " + e;
    }
    for (Path link : links) {
      String text;
      try {
        text = Files.readSymbolicLink(link).toString();
      } catch (IOException | UnsupportedOperationException e) {
        continue; // closed or exited meanwhile, or no cwd (kernel thread)
      }
      for (Target t : targets) {
        if (t.containsPath(text)) {
          users.get(t.realPath()).add(pid);
        }
      }
      if (!text.startsWith("/")) {
        continue; // pipe:[..], socket:[..], anon_inode:..
      }
      FileId id;
      try {
        Map<String, Object> a = Files.readAttributes(link, "unix:dev,ino");
        id = FileId.of((Long) a.get("dev"), (Long) a.get("ino"));
      } catch (IOException | RuntimeException e) {
        continue;
      }
      for (Target t : targets) {
        if (t.files().contains(id)) {
          users.get(t.realPath()).add(pid);
        }
      }
    }
    List<String> maps;
    try {
      maps = Files.readAllLines(pidDir.resolve("maps"));
    } catch (NoSuchFileException e) {
      return null;
    } catch (AccessDeniedException e) {
      return "cannot read the mappings of pid " + pid + ": permission denied (the agent needs root)";
    } catch (IOException | RuntimeException e) {
      if (!Files.exists(pidDir)) {
        return null;
      }
      return "cannot read the mappings of pid " + pid + ": " + e;
    }
    for (String line : maps) {
      MapsLine m = MapsLine.parse(line);
      if (m == null || (m.id() == null && m.path() == null)) {
        continue;
      }
      for (Target t : targets) {
        if ((m.path() != null && t.containsPath(m.path())) || (m.id() != null && t.files().contains(m.id()))) {
          users.get(t.realPath()).add(pid);
        }
      }
    }
    return null;
  }

  /** One line of /proc/pid/maps: {@code address perms offset MM:mm inode [path]}. */
  record MapsLine(FileId id, String path) {
    static MapsLine parse(String line) {
      String[] f = line.trim().split("\\s+", 6);
      if (f.length < 5) {
        return null;
      }
      try {
        int colon = f[3].indexOf(':');
        long inode = Long.parseLong(f[4]);
        FileId id = colon < 0 || inode == 0 ? null
            : new FileId(Long.parseLong(f[3].substring(0, colon), 16), Long.parseLong(f[3].substring(colon + 1), 16), inode);
        String path = f.length == 6 && f[5].startsWith("/") ? stripDeleted(f[5]) : null;
        return new MapsLine(id, path);
      } catch (NumberFormatException e) {
        return null;
      }
    }

    private static String stripDeleted(String p) {
      return p.endsWith(" (deleted)") ? p.substring(0, p.length() - " (deleted)".length()) : p;
    }
  }

  static boolean isPid(String name) {
    if (name.isEmpty() || name.length() > 10) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      if (name.charAt(i) < '0' || name.charAt(i) > '9') {
        return false;
      }
    }
    return true;
  }
}
