package dev.sharedipc.agent.reap;

import dev.sharedipc.agent.attribution.NodePod;
import dev.sharedipc.agent.attribution.NodePods;
import dev.sharedipc.agent.scan.FileUsersIndex;
import dev.sharedipc.agent.scan.OpenFileUsers;
import dev.sharedipc.agent.scan.OpenFileUsers.FileId;
import dev.sharedipc.agent.scan.SharedDirName;
import dev.sharedipc.agent.verdict.SharedDirJudge;
import dev.sharedipc.agent.verdict.SharedDirJudge.Dir;
import dev.sharedipc.agent.verdict.SharedDirJudgement;
import dev.sharedipc.agent.verdict.SharedDirVerdict;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes SameNode shared directories whose instance is gone. Each pass lists the shared root
 * (symbolic links are never followed), inspects every entry, remembers since when each instance has
 * had no pod on this node, asks {@link SharedDirJudge} for a verdict, and scans processes' open and
 * mapped files only for the directories that reach that question. For a {@link
 * SharedDirVerdict#Remove} it gathers every fact again (inspection, the informer's pods, open
 * files) and judges again immediately before removing; the removal itself goes through file
 * descriptors relative to the shared root ({@link SecureDirectoryStream}), never following a
 * symbolic link, so a directory swapped for a link meanwhile cannot lead it elsewhere.
 *
 * <p>Residual race: a process could open a file under the directory between the last scan of open
 * files and the removal (milliseconds). On tmpfs, removal unlinks names only; such a process keeps
 * its file's pages until it closes it, so no data in use is destroyed under it.
 */
public final class SharedDirReaper {
  private static final Logger log = LoggerFactory.getLogger(SharedDirReaper.class);

  private final Path root;
  private final List<Path> procRoots;
  private final NodePods cluster;
  private final boolean dryRun;
  private final Clock clock;
  private final Path mountInfo;

  /** Entry name -> when no pod of its instance was first seen, continuously since. */
  private final Map<String, Instant> absentSince = new HashMap<>();

  /**
   * @param procRoots where to look for processes using a directory: the discovery root and the real
   *     /proc (a user anywhere keeps it)
   */
  public SharedDirReaper(
      Path root, List<Path> procRoots, NodePods cluster, boolean dryRun, Clock clock) {
    this(root, procRoots, cluster, dryRun, clock, Path.of("/proc/self/mountinfo"));
  }

  SharedDirReaper(
      Path root,
      List<Path> procRoots,
      NodePods cluster,
      boolean dryRun,
      Clock clock,
      Path mountInfo) {
    this.root = root;
    this.procRoots = List.copyOf(procRoots);
    this.cluster = cluster;
    this.dryRun = dryRun;
    this.clock = clock;
    this.mountInfo = mountInfo;
  }

  /**
   * One pass that reads {@code /proc} itself when a directory needs its users (a CLI run, a test).
   */
  public List<SharedDirDecision> reap() {
    return reap(null);
  }

  /**
   * One pass that judges from the users index the serve pass already read ({@link
   * dev.sharedipc.agent.survey.PosixFindings#users()}), so a pass reads {@code /proc} once; the
   * re-check before any removal still reads it afresh.
   *
   * @param passUsers the pass's index, or null (or one that does not cover the shared root's
   *     filesystem) to read afresh
   */
  public List<SharedDirDecision> reap(FileUsersIndex passUsers) {
    if (root == null || !Files.isDirectory(root)) {
      absentSince.clear();
      return List.of();
    }
    Path realRoot;
    List<Path> entries = new ArrayList<>();
    try {
      realRoot = root.toRealPath();
      try (DirectoryStream<Path> s = Files.newDirectoryStream(realRoot)) {
        s.forEach(entries::add);
      }
    } catch (IOException e) {
      log.warn("shared root unreadable dir=\"{}\" reason=\"{}\"", root, e.toString());
      return List.of();
    }
    entries.sort(null);
    Instant now = clock.instant();
    List<NodePod> pods = cluster.onThisNode().orElse(null);
    Set<String> mounts = mountPoints();

    Map<String, Dir> dirs = new TreeMap<>();
    for (Path e : entries) {
      dirs.put(e.getFileName().toString(), inspect(realRoot, e, mounts));
    }
    trackAbsence(dirs, pods, now);

    Map<String, SharedDirJudgement> judged = new TreeMap<>();
    List<String> needUsers = new ArrayList<>();
    for (Dir d : dirs.values()) {
      SharedDirJudgement j =
          SharedDirJudge.judge(d, pods, absentSince.get(d.name()), grace(d), null, now);
      judged.put(d.name(), j);
      if (j.verdict() == SharedDirVerdict.UsersUnknown) {
        needUsers.add(d.name());
      }
    }
    if (!needUsers.isEmpty()) {
      Map<String, Set<Integer>> users = new HashMap<>();
      String unknown = users(realRoot, needUsers, users, passUsers);
      for (String name : needUsers) {
        Dir d = dirs.get(name);
        SharedDirJudgement j =
            SharedDirJudge.judge(
                d,
                pods,
                absentSince.get(name),
                grace(d),
                unknown == null ? users.get(name) : null,
                now);
        if (unknown != null) {
          j = new SharedDirJudgement(j.verdict(), j.reason() + " (" + unknown + ")");
        }
        judged.put(name, j);
      }
    }

    List<SharedDirDecision> decisions = new ArrayList<>();
    for (Dir d : dirs.values()) {
      SharedDirDecision decision = act(realRoot, d, judged.get(d.name()));
      log(decision);
      decisions.add(decision);
    }
    return decisions;
  }

  private SharedDirDecision act(Path realRoot, Dir d, SharedDirJudgement j) {
    String path = realRoot.resolve(d.name()).toString();
    if (j.verdict() != SharedDirVerdict.Remove) {
      return new SharedDirDecision(path, d.name(), d.owner(), j, Action.Kept, j.reason());
    }
    if (dryRun) {
      return new SharedDirDecision(
          path, d.name(), d.owner(), j, Action.WouldRemove, "dry run: " + j.reason());
    }
    // every fact again, right before acting
    Instant now = clock.instant();
    Dir again = inspect(realRoot, realRoot.resolve(d.name()), mountPoints());
    List<NodePod> pods = cluster.onThisNode().orElse(null);
    Map<String, Set<Integer>> users = new HashMap<>();
    String unknown =
        again.unsafe() == null
            ? users(realRoot, List.of(d.name()), users, null)
            : null; // never the pass's index
    SharedDirJudgement fresh =
        SharedDirJudge.judge(
            again,
            pods,
            absentSince.get(d.name()),
            grace(again),
            unknown == null ? users.get(d.name()) : null,
            now);
    if (fresh.verdict() != SharedDirVerdict.Remove) {
      return new SharedDirDecision(
          path,
          d.name(),
          d.owner(),
          j,
          Action.Spared,
          "re-check before removal: "
              + fresh.reason()
              + (unknown == null ? "" : " (" + unknown + ")"));
    }
    try (DirectoryStream<Path> s = Files.newDirectoryStream(realRoot)) {
      if (!(s instanceof SecureDirectoryStream<Path> secure)) {
        return new SharedDirDecision(
            path,
            d.name(),
            d.owner(),
            j,
            Action.Failed,
            "this platform cannot remove without following links (no SecureDirectoryStream); kept");
      }
      deleteTree(secure, realRoot.getFileSystem().getPath(d.name()));
    } catch (NoSuchFileException e) {
      absentSince.remove(d.name());
      return new SharedDirDecision(
          path,
          d.name(),
          d.owner(),
          j,
          Action.Spared,
          "it vanished before removal: " + e.getMessage());
    } catch (IOException | RuntimeException e) {
      return new SharedDirDecision(
          path,
          d.name(),
          d.owner(),
          j,
          Action.Failed,
          "removing "
              + path
              + " failed: "
              + e
              + " (what remains is kept and judged again next pass)");
    }
    absentSince.remove(d.name());
    return new SharedDirDecision(path, d.name(), d.owner(), fresh, Action.Removed, fresh.reason());
  }

  /**
   * Deletes {@code name} relative to {@code parent}'s descriptor: links are removed as links, never
   * followed.
   */
  private static void deleteTree(SecureDirectoryStream<Path> parent, Path name) throws IOException {
    BasicFileAttributes a =
        parent
            .getFileAttributeView(name, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
            .readAttributes();
    if (!a.isDirectory()) {
      parent.deleteFile(name);
      return;
    }
    List<Path> children = new ArrayList<>();
    try (SecureDirectoryStream<Path> child =
        parent.newDirectoryStream(name, LinkOption.NOFOLLOW_LINKS)) {
      child.forEach(p -> children.add(p.getFileName()));
      for (Path c : children) {
        deleteTree(child, c);
      }
    }
    parent.deleteDirectory(name);
  }

  /**
   * The entry as it is: unsafe (with why) unless a real directory directly under the real root with
   * nothing mounted in it.
   */
  static Dir inspect(Path realRoot, Path entry, Set<String> mounts) {
    String name = entry.getFileName().toString();
    try {
      if (Files.isSymbolicLink(entry)) {
        return Dir.named(
            name, "is a symbolic link (to " + Files.readSymbolicLink(entry) + "), never followed");
      }
      if (!Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
        return Dir.named(name, "is not a directory");
      }
      Path real = entry.toRealPath();
      if (!realRoot.equals(real.getParent())) {
        return Dir.named(
            name, "resolves to " + real + ", not directly under the shared root " + realRoot);
      }
      if (mounts == null) {
        return Dir.named(
            name,
            "mount points are unknown ("
                + "/proc/self/mountinfo unreadable), so a mount under it cannot be ruled out");
      }
      String prefix = real + "/";
      for (String m : mounts) {
        if (m.equals(real.toString()) || m.startsWith(prefix)) {
          return Dir.named(name, "a filesystem is mounted at " + m);
        }
      }
      return Dir.named(name, null);
    } catch (IOException e) {
      return Dir.named(name, "cannot be inspected: " + e);
    }
  }

  private void trackAbsence(Map<String, Dir> dirs, List<NodePod> pods, Instant now) {
    if (pods == null) {
      // absence seen while disconnected proves nothing: the clock starts again once pods are known
      absentSince.clear();
      return;
    }
    absentSince.keySet().retainAll(dirs.keySet());
    for (Dir d : dirs.values()) {
      Optional<SharedDirName> owner = d.owner();
      if (owner.isPresent() && pods.stream().noneMatch(p -> p.usesInstance(owner.get()))) {
        absentSince.putIfAbsent(d.name(), now);
      } else {
        absentSince.remove(d.name());
      }
    }
  }

  private Duration grace(Dir d) {
    return d.owner().flatMap(o -> cluster.orphanGrace(o.namespace(), o.group())).orElse(null);
  }

  /**
   * Fills users per entry name: every file under each directory (walked without following links,
   * the directory itself included) joined to an index of who has files open, mapped or as working
   * directory; returns why they are unknown, or null.
   *
   * @param index the pass's index, or null to read {@code /proc} now (the re-check before a removal
   *     always does)
   */
  private String users(
      Path realRoot, List<String> names, Map<String, Set<Integer>> out, FileUsersIndex index) {
    Map<String, Set<FileId>> files = new HashMap<>();
    Set<FileId> all = new HashSet<>();
    for (String n : names) {
      Path real = realRoot.resolve(n);
      try {
        Set<FileId> ids = OpenFileUsers.target(real).files();
        files.put(n, ids);
        all.addAll(ids);
      } catch (IOException e) {
        return "cannot walk " + real + ": " + e;
      }
    }
    if (all.isEmpty()) {
      names.forEach(n -> out.put(n, new HashSet<>()));
      return null;
    }
    FileUsersIndex users =
        index != null && all.stream().allMatch(index::covers)
            ? index
            : FileUsersIndex.read(procRoots, all);
    if (users.unknown() != null) {
      return users.unknown();
    }
    files.forEach((n, ids) -> out.put(n, new HashSet<>(users.users(ids))));
    return null;
  }

  /**
   * Mount points in the agent's mount namespace (where removal happens), or null when unreadable.
   */
  private Set<String> mountPoints() {
    Set<String> out = new HashSet<>();
    try {
      for (String line : Files.readAllLines(mountInfo)) {
        String[] f = line.split(" ");
        if (f.length > 4) {
          out.add(unescape(f[4]));
        }
      }
    } catch (IOException e) {
      return null; // unknown: inspect() then calls every directory unsafe
    }
    return out;
  }

  /** mountinfo escapes space, tab, newline and backslash as \ooo. */
  static String unescape(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).matches("[0-7]{3}")) {
        b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

  private static void log(SharedDirDecision d) {
    switch (d.action()) {
      case Removed, WouldRemove -> log.info("shared-dir {}", d.audit());
      case Spared, Failed -> log.warn("shared-dir {}", d.audit());
      default -> {
        SharedDirVerdict v = d.judgement().verdict();
        if (v == SharedDirVerdict.InstancePresent || v == SharedDirVerdict.ClusterUnknown) {
          if (log.isDebugEnabled()) {
            log.debug("shared-dir {}", d.audit());
          }
        } else {
          log.info("shared-dir {}", d.audit());
        }
      }
    }
  }
}
