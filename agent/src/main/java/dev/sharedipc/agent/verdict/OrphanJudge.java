package dev.sharedipc.agent.verdict;

import dev.sharedipc.agent.attribution.Attribution;
import dev.sharedipc.agent.scan.Segment;
import dev.sharedipc.api.Durations;
import dev.sharedipc.api.v1alpha1.OrphanPolicy;
import java.time.Duration;
import java.time.Instant;

/**
 * The orphan verdict, as a pure function of what was observed: no I/O, no clock, no kernel. The
 * safety rules (README.md, "Safety rules"), in the order they are checked (the first that applies
 * decides):
 *
 * <ol>
 *   <li>already marked for removal: nothing to do;
 *   <li>attached: in use;
 *   <li>creator pid unknown (0): ambiguous;
 *   <li>creator or last operator alive in the namespace: kept;
 *   <li>no pod, or more than one: never removed;
 *   <li>unattached for less than the grace period (from the latest of ctime, atime and dtime):
 *       kept;
 *   <li>an orphan: removed only under policy Delete.
 * </ol>
 *
 * Liveness is an input rather than a lookup so that this stays pure; it is a fact about processes,
 * not about the segment, which is why it is not part of {@link Segment}.
 */
public final class OrphanJudge {
  private OrphanJudge() {}

  public static Judgement judge(
      Segment s, Liveness live, Attribution attribution, Policy policy, Instant now) {
    if (s.markedForRemoval()) {
      return new Judgement(
          Verdict.MarkedForRemoval,
          "already marked for removal; the kernel frees it when its last user detaches");
    }
    if (s.nattch() > 0) {
      return new Judgement(
          Verdict.InUse, s.nattch() + " attachment" + (s.nattch() == 1 ? "" : "s"));
    }
    if (s.cpid() <= 0) {
      return new Judgement(
          Verdict.Ambiguous, "creator pid unknown (not visible from the agent's pid namespace)");
    }
    if (live.creatorAlive()) {
      return new Judgement(
          Verdict.OwnerAlive, "creator pid " + s.cpid() + " is alive in its namespace");
    }
    if (live.lastOperatorAlive()) {
      return new Judgement(
          Verdict.OwnerAlive, "last operator pid " + s.lpid() + " is alive in its namespace");
    }
    if (attribution.source() == Attribution.Source.AMBIGUOUS) {
      return new Judgement(
          Verdict.Ambiguous, "unattached and owners gone, but " + attribution.detail() + "; kept");
    }
    if (!attribution.attributed()) {
      return new Judgement(
          Verdict.Unattributed,
          "unattached and owners gone, but no pod is known ("
              + attribution.detail()
              + "); never removed");
    }
    Duration grace =
        policy.grace() == null || policy.grace().isNegative() ? Duration.ZERO : policy.grace();
    long lastUse = s.lastUseEpochSecond();
    Duration idle = Duration.ofSeconds(Math.max(0, now.getEpochSecond() - lastUse));
    if (lastUse > now.getEpochSecond() || idle.compareTo(grace) < 0) {
      return new Judgement(
          Verdict.WithinGrace,
          "unattached for "
              + Durations.format(idle)
              + ", grace period "
              + Durations.format(grace)
              + " ("
              + policy.source()
              + ")");
    }
    if (policy.orphanPolicy() == OrphanPolicy.Delete) {
      return new Judgement(
          Verdict.Remove,
          "orphaned: unattached for "
              + Durations.format(idle)
              + ", creator and last operator gone; policy Delete ("
              + policy.source()
              + ")");
    }
    return new Judgement(
        Verdict.Orphaned,
        "orphaned: unattached for "
            + Durations.format(idle)
            + ", creator and last operator gone; kept by policy "
            + policy.orphanPolicy()
            + " ("
            + policy.source()
            + ")");
  }
}
