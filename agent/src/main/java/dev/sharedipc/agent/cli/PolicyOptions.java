package dev.sharedipc.agent.cli;

import dev.sharedipc.agent.verdict.Policy;
import dev.sharedipc.api.Durations;
import dev.sharedipc.api.v1alpha1.OrphanPolicy;
import picocli.CommandLine.Option;

/** The orphan policy the CLI applies to every segment attributed to a pod. */
public final class PolicyOptions {
  @Option(
      names = "--policy",
      paramLabel = "Delete|Report",
      defaultValue = "Report",
      description =
          "Orphan policy for segments attributed to a pod (default: ${DEFAULT-VALUE}). "
              + "Unattributed segments are never removed, whatever this says.")
  OrphanPolicy policy;

  @Option(
      names = "--grace",
      paramLabel = "DURATION",
      defaultValue = "10m",
      description =
          "How long a segment must have been unattached, with its creator and last operator gone, "
              + "before it counts as orphaned: a duration such as 10m, 1h30m, 0s (default: ${DEFAULT-VALUE}).")
  String grace;

  Policy policy() {
    return new Policy(policy, Durations.parse(grace), "--policy " + policy + " --grace " + grace);
  }
}
