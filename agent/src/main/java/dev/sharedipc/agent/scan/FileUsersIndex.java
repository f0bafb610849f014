package dev.sharedipc.agent.scan;

import dev.sharedipc.agent.kernel.AtFiles;
import dev.sharedipc.agent.kernel.KernelException;
import dev.sharedipc.agent.scan.OpenFileUsers.FileId;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Who has which file open or mapped, for every process of the node, read once per pass: each
 * process's {@code maps} (whose lines carry device and inode, so no stat is needed) and each of its
 * {@code fd} links ({@code stat} through the link gives the target's device and inode, whatever
 * path the process sees it under in its own mount namespace). Only files on the given devices are
 * kept, so the index stays as small as the volumes it serves. Joining objects to it costs one
 * lookup each, instead of a walk of {@code /proc} per object. Each process's working directory is
 * indexed too, so one read per pass also tells who uses a SameNode shared directory (its files'
 * identities, walked, joined here), and {@code /proc} is read once per pass for both.
 *
 * <p>Pids that exit while being read are skipped. A pid whose fds or maps cannot be read for
 * another reason makes the whole index unknown ({@link #unknown()} says why): callers then keep
 * everything.
 */
public final class FileUsersIndex {
  /**
   * The pids that have one file open (a directory: as their working directory too) and the pids
   * that have it mapped.
   */
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
  private final Set<Long> devices;
  private final String unknown;

  private FileUsersIndex(Map<FileId, Users> byFile, Set<Long> devices, String unknown) {
    this.byFile = byFile;
    this.devices = devices;
    this.unknown = unknown;
  }

  /**
   * Whether the index was asked to cover the filesystem of this file (files elsewhere are never in
   * it).
   */
  public boolean covers(FileId anyOnDevice) {
    return devices.contains(device(anyOnDevice));
  }

  /**
   * Every pid that has any of these files open or mapped, or as its working directory (a
   * directory's users, given everything under it), or null when the index is not known.
   */
  public Set<Integer> users(Set<FileId> files) {
    if (unknown != null) {
      return null;
    }
    Set<Integer> out = new TreeSet<>();
    for (FileId f : files) {
      Users u = byFile.get(f);
      if (u != null) {
        out.addAll(u.open());
        out.addAll(u.mapped());
      }
    }
    return out;
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
   * @param devices the devices (as {@link FileId#major()}/{@link FileId#minor()} pairs of any file
   *     on them) worth indexing
   */
  public static FileUsersIndex read(List<Path> procRoots, Set<FileId> devices) {
    return read(procRoots, devices, 1);
  }

  /**
   * Reads every pid under each proc root with {@code workers} threads (the caller's one of them):
   * each takes the next pid of the listing, so a process with many mappings does not hold the
   * others up, and their partial indexes are merged at the end. The work is system calls, so two
   * workers on a node with two cores take about half the time of one.
   *
   * @param devices the devices (as {@link FileId#major()}/{@link FileId#minor()} pairs of any file
   *     on them) worth indexing
   */
  public static FileUsersIndex read(List<Path> procRoots, Set<FileId> devices, int workers) {
    Set<Long> wanted = new java.util.HashSet<>();
    for (FileId d : devices) {
      wanted.add(device(d));
    }
    Map<FileId, Users> byFile = new HashMap<>();
    if (wanted.isEmpty()) {
      return new FileUsersIndex(byFile, wanted, null);
    }
    if (!AtFiles.available()) {
      return new FileUsersIndex(
          Map.of(),
          wanted,
          "openat/fstatat/getdents64 are not available in this libc (the agent needs glibc 2.33+ on x86_64 or aarch64)");
    }
    for (Path root : new java.util.LinkedHashSet<>(procRoots)) {
      try (AtFiles.Directory proc = AtFiles.openDirectory(root, List.of())) {
        List<byte[]> pids = new ArrayList<>();
        proc.forEach(
            (name, length) -> {
              if (isPid(name, length)) {
                pids.add(Arrays.copyOf(name, length + 1));
              }
            });
        String problem =
            readPids(proc, pids, wanted, byFile, Math.max(1, Math.min(workers, pids.size())));
        if (problem != null) {
          return new FileUsersIndex(Map.of(), wanted, problem);
        }
      } catch (KernelException | RuntimeException e) {
        return new FileUsersIndex(
            Map.of(), wanted, "cannot list processes under " + root + ": " + e.getMessage());
      }
    }
    return new FileUsersIndex(byFile, wanted, null);
  }

  /**
   * Reads the listed pids into {@code byFile} with {@code workers} threads; returns the first
   * problem, or null.
   */
  private static String readPids(
      AtFiles.Directory proc,
      List<byte[]> pids,
      Set<Long> wanted,
      Map<FileId, Users> byFile,
      int workers) {
    AtomicInteger next = new AtomicInteger();
    AtomicReference<String> problem = new AtomicReference<>();
    java.util.function.Function<Map<FileId, Users>, Runnable> worker =
        into ->
            () -> {
              try {
                int i;
                while (problem.get() == null && (i = next.getAndIncrement()) < pids.size()) {
                  byte[] name = pids.get(i);
                  String p = readPid(proc, name, name.length - 1, wanted, into);
                  if (p != null) {
                    problem.compareAndSet(null, p);
                  }
                }
              } catch (RuntimeException e) {
                // a worker that stopped half way leaves pids unread: the index must then be
                // unknown, never short
                problem.compareAndSet(
                    null, "reading processes under " + proc.path() + " failed: " + e);
              }
            };
    List<Thread> helpers = new ArrayList<>();
    List<Map<FileId, Users>> partial = new ArrayList<>();
    for (int w = 1; w < workers; w++) {
      Map<FileId, Users> into = new HashMap<>();
      partial.add(into);
      Thread t = new Thread(null, worker.apply(into), "proc-reader-" + w, 256 * 1024);
      t.setDaemon(true);
      t.start();
      helpers.add(t);
    }
    worker.apply(byFile).run();
    for (Thread t : helpers) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return "interrupted while reading processes";
      }
    }
    for (Map<FileId, Users> part : partial) {
      part.forEach(
          (id, u) -> {
            Users all = entry(byFile, id);
            all.open().addAll(u.open());
            all.mapped().addAll(u.mapped());
          });
    }
    return problem.get();
  }

  private static long device(FileId id) {
    return (id.major() << 32) | id.minor();
  }

  private static Users entry(Map<FileId, Users> byFile, FileId id) {
    return byFile.computeIfAbsent(id, k -> new Users(new TreeSet<>(), new TreeSet<>()));
  }

  private static final byte[] FD = {'f', 'd', 0};
  private static final byte[] MAPS = {'m', 'a', 'p', 's', 0};
  private static final byte[] CWD = {'c', 'w', 'd', 0};

  /**
   * stat through an entry, or null when it cannot be (a kernel thread has no cwd, a fixture pid
   * none either).
   */
  private static AtFiles.Stat statQuietly(AtFiles.Directory dir, byte[] name) {
    try {
      return dir.statThrough(name);
    } catch (KernelException e) {
      return null;
    }
  }

  private static boolean isPid(byte[] name, int length) {
    if (length == 0 || length > 10) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      if (name[i] < '0' || name[i] > '9') {
        return false;
      }
    }
    return true;
  }

  /**
   * One process, read through descriptors: its fd directory (each link stat'ed through, relative to
   * the directory: the open file's device and inode, whatever path the process sees it under; pipes
   * and sockets have devices of their own and never match a volume's), its cwd, then its maps. A
   * process that exits meanwhile is skipped; any other failure is returned as the reason the index
   * is not known.
   */
  private static String readPid(
      AtFiles.Directory proc,
      byte[] pidName,
      int length,
      Set<Long> wanted,
      Map<FileId, Users> byFile) {
    int pid = Integer.parseInt(AtFiles.name(pidName, length));
    String where = proc.path() + "/" + pid;
    byte[] maps;
    try (AtFiles.Directory pidDir = proc.enter(pidName)) {
      if (pidDir == null) {
        return null; // exited
      }
      try (AtFiles.Directory fds = pidDir.enter(FD)) {
        if (fds == null) {
          return null;
        }
        fds.forEach(
            (fd, fdLength) -> {
              AtFiles.Stat st;
              try {
                st = fds.statThrough(fd);
              } catch (KernelException e) {
                return; // closed meanwhile, or a descriptor that cannot be stat'ed: not a file of a
                // volume
              }
              if (st != null) {
                FileId id = FileId.of(st.dev(), st.ino());
                if (wanted.contains(device(id))) {
                  entry(byFile, id).open().add(pid);
                }
              }
            });
        // a working directory holds its directory as an open descriptor would (a shared directory's
        // user)
        AtFiles.Stat cwd = statQuietly(pidDir, CWD);
        if (cwd != null && wanted.contains(device(FileId.of(cwd.dev(), cwd.ino())))) {
          entry(byFile, FileId.of(cwd.dev(), cwd.ino())).open().add(pid);
        }
      } catch (KernelException e) {
        return gone(proc, pidName)
            ? null
            : e.isPermission()
                ? "cannot read the open files of pid "
                    + pid
                    + " ("
                    + where
                    + "/fd): permission denied (the agent needs root)"
                : "cannot read the open files of pid " + pid + ": " + e.getMessage();
      }
      try {
        maps = pidDir.readFile(MAPS);
      } catch (KernelException e) {
        return gone(proc, pidName)
            ? null
            : e.isPermission()
                ? "cannot read the mappings of pid "
                    + pid
                    + ": permission denied (the agent needs root)"
                : "cannot read the mappings of pid " + pid + ": " + e.getMessage();
      }
    } catch (KernelException e) {
      return gone(proc, pidName) ? null : "cannot open " + where + ": " + e.getMessage();
    }
    if (maps == null) {
      return null;
    }
    mappedFiles(
        maps,
        (device, inode) -> {
          if (wanted.contains(device)) {
            entry(byFile, new FileId(device >>> 32, device & 0xffffffffL, inode)).mapped().add(pid);
          }
        });
    return null;
  }

  /**
   * Whether a process exited (its /proc directory is gone), which makes any failure to read it
   * harmless.
   */
  private static boolean gone(AtFiles.Directory proc, byte[] pidName) {
    try {
      return proc.statThrough(pidName) == null;
    } catch (KernelException e) {
      return false;
    }
  }

  /**
   * Receives the device (major in the high 32 bits, minor in the low) and inode of one file
   * mapping.
   */
  @FunctionalInterface
  interface MappingSink {
    void accept(long device, long inode);
  }

  /**
   * The file mappings of a {@code /proc/<pid>/maps} text ({@code address perms offset MM:mm inode
   * [path]}), read off the bytes: a process maps hundreds of regions and a node runs thousands of
   * processes, so no string is made per line. Anonymous mappings (inode 0) and lines that do not
   * parse are skipped.
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

  /**
   * The index just past {@code count} space-separated fields from {@code from}, spaces after them
   * skipped.
   */
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
