package dev.sharedipc.agent.verdict;

/** A verdict on a POSIX shared-memory object and the sentence that explains it. */
public record PosixObjectJudgement(PosixObjectVerdict verdict, String reason) {
  /** Whether nobody uses it (it is an orphan, whatever the policy does with it). */
  public boolean orphan() {
    return verdict == PosixObjectVerdict.KeptByPolicy
        || verdict == PosixObjectVerdict.WithinGrace
        || verdict == PosixObjectVerdict.Remove;
  }
}
