package dev.sharedipc.agent.verdict;

import dev.sharedipc.agent.attribution.Attribution;

/**
 * Which orphan policy applies to an attributed segment. The CLI applies one policy to every segment
 * attributed to a pod; the daemon uses the policy the operator publishes in the pod's group's
 * {@code status.effectiveOrphanPolicy} (Report when none is published; the last known one when the
 * API server is away). Unattributed segments never reach removal whatever this returns.
 */
@FunctionalInterface
public interface PolicyResolver {
  Policy policyFor(Attribution attribution);

  static PolicyResolver fixed(Policy policy) {
    return a -> a.attributed() ? policy : Policy.UNKNOWN;
  }
}
