package dev.sharedipc.agent.attribution;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What the API server says about this node's pods, for deciding whether a SameNode instance is
 * gone. The API-backed one is {@code report.ClusterView}; offline nothing is known, so nothing is
 * ever judged gone.
 */
public interface NodePods {
  NodePods OFFLINE =
      new NodePods() {
        @Override
        public Optional<List<NodePod>> onThisNode() {
          return Optional.empty();
        }

        @Override
        public Optional<Duration> orphanGrace(String namespace, String group) {
          return Optional.empty();
        }
      };

  /**
   * Every pod bound to this node, or empty when the list cannot be vouched for: not connected to
   * the API server, or the pod informer has not synced. An empty list means "no pods", not
   * "unknown".
   */
  Optional<List<NodePod>> onThisNode();

  /**
   * The group's {@code segments.orphanGracePeriod}, when the group (or its last known policy) is
   * known.
   */
  Optional<Duration> orphanGrace(String namespace, String group);
}
