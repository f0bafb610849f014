package dev.sharedipc.agent.reap;

import dev.sharedipc.agent.kernel.AtFiles;
import dev.sharedipc.agent.kernel.KernelException;
import dev.sharedipc.agent.scan.FileUsersIndex;
import dev.sharedipc.agent.scan.OpenFileUsers.FileId;
import dev.sharedipc.agent.scan.PosixObject;
import dev.sharedipc.agent.survey.PosixFindings;
import dev.sharedipc.agent.survey.PosixObjectFinding;
import dev.sharedipc.agent.verdict.PosixObjectJudgement;
import dev.sharedipc.agent.verdict.PosixObjectVerdict;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes POSIX shared-memory objects judged {@link PosixObjectVerdict#Remove}, re-checking every
 * fact immediately before acting: the process table is read again (one pass for the whole batch),
 * the caller judges again with those users, and the file is looked up again through directory
 * descriptors opened from the volume's root without following any link ({@link AtFiles}); it must
 * still be a regular file with the same device, inode, modification and status-change times. Only
 * then is it unlinked, relative to its directory.
 *
 * <p>Residual race: a process could open the file between the re-read of the process table and the
 * unlink (milliseconds). On tmpfs unlinking removes the name only: a process that opened it keeps
 * its pages until it closes it, so no data in use is destroyed under it.
 */
public final class PosixObjectReaper {
  private static final Logger log = LoggerFactory.getLogger(PosixObjectReaper.class);

  /** What was decided for one object and why. */
  public record Decision(
      PosixObject object, PosixObjectJudgement judgement, Action action, String detail) {
    public String audit() {
      return "posix object "
          + object.path()
          + " pod="
          + object.volume().podUid()
          + " verdict="
          + judgement.verdict()
          + " action="
          + action
          + " reason=\""
          + judgement.reason()
          + (detail == null ? "" : "; " + detail)
          + "\"";
    }
  }

  private final List<Path> procRoots;
  private final boolean dryRun;

  /**
   * @param procRoots where to look for processes using an object (a user anywhere keeps it)
   */
  public PosixObjectReaper(List<Path> procRoots, boolean dryRun) {
    this.procRoots = List.copyOf(procRoots);
    this.dryRun = dryRun;
  }

  /**
   * Acts on one pass's findings: each object is judged again, just before acting, with the users
   * read then, under the pod, policy and crash-loop guard the pass found.
   */
  public List<Decision> reap(PosixFindings findings, Instant now) {
    Map<PosixObject, PosixObjectFinding> byObject = new IdentityHashMap<>();
    findings.objects().forEach(f -> byObject.put(f.object(), f));
    List<Decision> judged =
        findings.objects().stream()
            .map(f -> new Decision(f.object(), f.judgement(), null, null))
            .toList();
    return reap(judged, (o, users) -> byObject.get(o).judge(users, now));
  }

  /**
   * @param judged every object with its verdict; only {@link PosixObjectVerdict#Remove} is acted on
   * @param rejudge the caller's judge, asked again with the users read just now (null: not known)
   */
  public List<Decision> reap(
      List<Decision> judged, BiFunction<PosixObject, Set<Integer>, PosixObjectJudgement> rejudge) {
    List<Decision> out = new ArrayList<>(judged.size());
    List<Decision> candidates =
        judged.stream().filter(d -> d.judgement().verdict() == PosixObjectVerdict.Remove).toList();
    FileUsersIndex users =
        candidates.isEmpty()
            ? null
            : FileUsersIndex.read(
                procRoots,
                candidates.stream().map(d -> d.object().id()).collect(Collectors.toSet()));
    for (Decision d : judged) {
      Decision done =
          d.judgement().verdict() == PosixObjectVerdict.Remove
              ? act(d.object(), users, rejudge)
              : new Decision(d.object(), d.judgement(), Action.Kept, null);
      if (done.action() != Action.Kept) {
        log.info(done.audit());
      }
      out.add(done);
    }
    return out;
  }

  private Decision act(
      PosixObject o,
      FileUsersIndex index,
      BiFunction<PosixObject, Set<Integer>, PosixObjectJudgement> rejudge) {
    FileUsersIndex.Users users = index.users(o.id());
    PosixObjectJudgement again = rejudge.apply(o, users == null ? null : users.all());
    if (again.verdict() != PosixObjectVerdict.Remove) {
      return new Decision(
          o,
          again,
          Action.Spared,
          "judged again just before removal"
              + (index.unknown() == null ? "" : " (" + index.unknown() + ")"));
    }
    List<String> parts = Arrays.asList(o.name().split("/"));
    String name = parts.get(parts.size() - 1);
    try (AtFiles.Directory dir =
        AtFiles.openDirectory(Path.of(o.volume().path()), parts.subList(0, parts.size() - 1))) {
      AtFiles.Stat now = dir.stat(name);
      String changed = changed(o, now);
      if (changed != null) {
        return new Decision(o, again, Action.Spared, changed + " since it was judged");
      }
      if (dryRun) {
        return new Decision(o, again, Action.WouldRemove, "dry run");
      }
      dir.unlink(name);
      return new Decision(o, again, Action.Removed, null);
    } catch (KernelException e) {
      return e.isGone()
          ? new Decision(o, again, Action.Spared, "gone before removal: " + e.getMessage())
          : new Decision(o, again, Action.Failed, e.getMessage());
    }
  }

  private static String changed(PosixObject o, AtFiles.Stat now) {
    if (!now.regular()) {
      return "no longer a regular file";
    }
    if (!FileId.of(now.dev(), now.ino()).equals(o.id())) {
      return "replaced by another file (device or inode differ)";
    }
    if (now.mtimeNanos() != o.mtimeNanos()) {
      return "modified";
    }
    if (now.ctimeNanos() != o.ctimeNanos()) {
      return "status changed (ctime)";
    }
    return null;
  }
}
