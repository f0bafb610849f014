package dev.sharedipc.agent.survey;

import dev.sharedipc.agent.scan.FileUsersIndex;
import java.util.List;

/**
 * The POSIX shared-memory objects of one pass: every memory volume with its objects counted and the
 * crash-loop guard, every object judged.
 *
 * @param usersUnknown why who has the files open or mapped is not known (every object then kept),
 *     or null
 * @param users the pass's one read of who uses files on the volumes and the shared root (the
 *     shared-directory reaper judges from it too), or null when the pass read none
 */
public record PosixFindings(
    List<PosixVolumeFinding> volumes,
    List<PosixObjectFinding> objects,
    String usersUnknown,
    FileUsersIndex users) {
  public static final PosixFindings NONE = new PosixFindings(List.of(), List.of(), null, null);

  /** Findings made without an index of users to hand on (built in tests, or read elsewhere). */
  public PosixFindings(
      List<PosixVolumeFinding> volumes, List<PosixObjectFinding> objects, String usersUnknown) {
    this(volumes, objects, usersUnknown, null);
  }
}
