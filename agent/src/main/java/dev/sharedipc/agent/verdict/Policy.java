package dev.sharedipc.agent.verdict;

import dev.sharedipc.api.v1alpha1.OrphanPolicy;
import java.time.Duration;

/** The orphan policy that applies to a segment, and where it came from (for the audit line). */
public record Policy(OrphanPolicy orphanPolicy, Duration grace, String source) {
  /** What applies when nothing is known: report, never remove. */
  public static final Policy UNKNOWN =
      new Policy(OrphanPolicy.Report, Duration.ofMinutes(10), "none known");
}
