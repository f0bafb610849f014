package dev.sharedipc.agent.survey;

import java.util.List;

/**
 * The POSIX shared-memory objects of one pass: every memory volume with its objects counted and the
 * crash-loop guard, every object judged.
 *
 * @param usersUnknown why who has the files open or mapped is not known (every object then kept), or null
 */
public record PosixFindings(List<PosixVolumeFinding> volumes, List<PosixObjectFinding> objects, String usersUnknown) {
  public static final PosixFindings NONE = new PosixFindings(List.of(), List.of(), null);
}
