package dev.sharedipc.agent.scan;

import dev.sharedipc.agent.kernel.AtFiles;
import dev.sharedipc.agent.scan.OpenFileUsers.FileId;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Who has which file open or mapped, for every process of the node, read once per pass: each
 * process's {@code maps} (whose lines carry device and inode, so no stat is needed) and each of its
 * {@code fd} links ({@code stat} through the link gives the target's device and inode, whatever
 * path the process sees it under in its own mount namespace). Only files on the given devices are
 * kept, so the index stays as small as the volumes it serves. Joining objects to it costs one
 * lookup each, instead of a walk of {@code /proc} per object.
 *
 * <p>Pids that exit while being read are skipped. A pid whose fds or maps cannot be read for another
 * reason makes the whole index unknown ({@link #unknown()} says why): callers then keep everything.
 */
public final class FileUsersIndex {
  /** The pids that have one file open and the pids that have it mapped. */
  public record Users(Set<Integer> open, Set<Integer> mapped) {
    /** Every pid that uses it either way. */
    public Set<Integer> all() {
      Set<Integer> all = new TreeSet<>(open);
      all.addAll(mapped);
      return all;
    }
  }

  private static final Users NOBODY = new Users(Set.of(), Set.of());
  private final Map<FileId, Users> byFile;
  private final String unknown;

  private FileUsersIndex(Map<FileId, Users> byFile, String unknown) {
    this.byFile = byFile;
    this.unknown = unknown;
  }

  /** Why the index is not known (a process could not be read), or null when it is. */
  public String unknown() {
    return unknown;
  }

  /** The users of a file, or null when the index is not known. */
  public Users users(FileId id) {
    if (unknown != null) {
      return null;
    }
    return byFile.getOrDefault(id, NOBODY);
  }

  /**
   * Reads every pid under each proc root.
   *
   * @param devices the devices (as {@link FileId#major()}/{@link FileId#minor()} pairs of any file on them) worth indexing
   */
  public static FileUsersIndex read(List<Path> procRoots, Set<FileId> devices) {
    Set<Long> wanted = new java.util.HashSet<>();
    for (FileId d : devices) {
      wanted.add(device(d));
    }
    Map<FileId, Users> byFile = new HashMap<>();
    if (wanted.isEmpty()) {
      return new FileUsersIndex(byFile, null);
    }
    for (Path root : new java.util.LinkedHashSet<>(procRoots)) {
      try (DirectoryStream<Path> pids = Files.newDirectoryStream(root, p -> OpenFileUsers.isPid(p.getFileName().toString()))) {
        for (Path pidDir : pids) {
          String problem = readPid(pidDir, wanted, byFile);
          if (problem != null) {
            return new FileUsersIndex(Map.of(), problem);
          }
        }
      } catch (IOException | RuntimeException e) {
        return new FileUsersIndex(Map.of(), "cannot list processes under " + root + ": " + e);
      }
    }
    return new FileUsersIndex(byFile, null);
  }

  /** The device and inode of the file an fd link leads to, or null when it was closed meanwhile. */
  private static FileId openFile(Path link) {
    if (AtFiles.available()) {
      AtFiles.Stat st = AtFiles.statThrough(link.toString());
      return st == null ? null : FileId.of(st.dev(), st.ino());
    }
    try { // a libc without fstatat: the JDK's stat, slower but as sure
      Map<String, Object> a = Files.readAttributes(link, "unix:dev,ino");
      return FileId.of((Long) a.get("dev"), (Long) a.get("ino"));
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static long device(FileId id) {
    return (id.major() << 32) | id.minor();
  }

  private static Users entry(Map<FileId, Users> byFile, FileId id) {
    return byFile.computeIfAbsent(id, k -> new Users(new TreeSet<>(), new TreeSet<>()));
  }

  private static String readPid(Path pidDir, Set<Long> wanted, Map<FileId, Users> byFile) {
    int pid = Integer.parseInt(pidDir.getFileName().toString());
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(pidDir.resolve("fd"))) {
      for (Path link : fds) {
        // stat through the link: the open file's device and inode, whatever path the process sees
        // it under (pipes and sockets have devices of their own and never match a volume's)
        FileId id = openFile(link);
        if (id != null && wanted.contains(device(id))) {
          entry(byFile, id).open().add(pid);
        }
      }
    } catch (NoSuchFileException e) {
      return null; // exited
    } catch (AccessDeniedException e) {
      return "cannot read the open files of pid " + pid + " (" + pidDir.resolve("fd") + "): permission denied (the agent needs root)";
    } catch (IOException | RuntimeException e) {
      return Files.exists(pidDir) ? "cannot read the open files of pid " + pid + ": " + e : null;
    }
    byte[] maps;
    try {
      maps = Files.readAllBytes(pidDir.resolve("maps"));
    } catch (NoSuchFileException e) {
      return null;
    } catch (AccessDeniedException e) {
      return "cannot read the mappings of pid " + pid + ": permission denied (the agent needs root)";
    } catch (IOException | RuntimeException e) {
      return Files.exists(pidDir) ? "cannot read the mappings of pid " + pid + ": " + e : null;
    }
    mappedFiles(maps, (device, inode) -> {
      if (wanted.contains(device)) {
        entry(byFile, new FileId(device >>> 32, device & 0xffffffffL, inode)).mapped().add(pid);
      }
    });
    return null;
  }

  /** Receives the device (major in the high 32 bits, minor in the low) and inode of one file mapping. */
  @FunctionalInterface
  interface MappingSink {
    void accept(long device, long inode);
  }

  /**
   * The file mappings of a {@code /proc/<pid>/maps} text ({@code address perms offset MM:mm inode [path]}),
   * read off the bytes: a process maps hundreds of regions and a node runs thousands of processes, so no
   * string is made per line. Anonymous mappings (inode 0) and lines that do not parse are skipped.
   */
  static void mappedFiles(byte[] t, MappingSink sink) {
    int n = t.length;
    int i = 0;
    while (i < n) {
      int end = i;
      while (end < n && t[end] != '\n') {
        end++;
      }
      int f = skipFields(t, i, end, 3); // address, perms, offset
      long major = 0;
      long minor = 0;
      long inode = 0;
      boolean ok = f < end;
      int digits = 0;
      while (ok && f < end && t[f] != ':') {
        int d = hex(t[f++]);
        ok = d >= 0;
        major = major * 16 + d;
        digits++;
      }
      ok = ok && digits > 0 && f < end && t[f++] == ':';
      digits = 0;
      while (ok && f < end && t[f] != ' ') {
        int d = hex(t[f++]);
        ok = d >= 0;
        minor = minor * 16 + d;
        digits++;
      }
      ok = ok && digits > 0;
      while (ok && f < end && t[f] == ' ') {
        f++;
      }
      digits = 0;
      while (ok && f < end && t[f] != ' ') {
        int d = t[f++] - '0';
        ok = d >= 0 && d <= 9;
        inode = inode * 10 + d;
        digits++;
      }
      if (ok && digits > 0 && inode != 0) {
        sink.accept((major << 32) | minor, inode);
      }
      i = end + 1;
    }
  }

  /** The index just past {@code count} space-separated fields from {@code from}, spaces after them skipped. */
  private static int skipFields(byte[] t, int from, int end, int count) {
    int i = from;
    for (int k = 0; k < count && i < end; k++) {
      while (i < end && t[i] != ' ') {
        i++;
      }
      while (i < end && t[i] == ' ') {
        i++;
      }
    }
    return i;
  }

  private static int hex(byte b) {
    if (b >= '0' && b <= '9') {
      return b - '0';
    }
    if (b >= 'a' && b <= 'f') {
      return b - 'a' + 10;
    }
    if (b >= 'A' && b <= 'F') {
      return b - 'A' + 10;
    }
    return -1;
  }
}
