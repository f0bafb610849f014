package dev.sharedipc.agent.attribution;

import java.util.Optional;

/**
 * Looks pods up by UID; the API-backed one keeps a node-local informer cache, offline there are
 * none.
 */
@FunctionalInterface
public interface PodDirectory {
  PodDirectory OFFLINE = uid -> Optional.empty();

  Optional<PodInfo> byUid(String uid);

  /**
   * The pod with its container statuses (for the crash-loop guard), when the API server told us;
   * offline never.
   */
  default Optional<NodePod> nodePod(String uid) {
    return Optional.empty();
  }
}
