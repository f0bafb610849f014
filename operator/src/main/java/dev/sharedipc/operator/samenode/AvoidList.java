package dev.sharedipc.operator.samenode;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * Nodes a group's instances should avoid for a while after an instance timed out on them. Kept in
 * memory: after an operator restart an instance may be tried once more on the same node, which
 * costs one more timeout and is then remembered again.
 */
public final class AvoidList {
  public static final Duration DEFAULT_TTL = Duration.ofMinutes(5);

  private final Map<String, Map<String, Instant>> untilByGroup = new ConcurrentHashMap<>();
  private final Duration ttl;

  public AvoidList(Duration ttl) {
    this.ttl = ttl;
  }

  public void avoid(String groupUid, String node, Instant now) {
    untilByGroup.computeIfAbsent(groupUid, g -> new ConcurrentHashMap<>()).put(node, now.plus(ttl));
  }

  public Set<String> nodes(String groupUid, Instant now) {
    Map<String, Instant> nodes = untilByGroup.getOrDefault(groupUid, Map.of());
    nodes.values().removeIf(until -> !until.isAfter(now));
    return nodes.keySet().stream().collect(Collectors.toUnmodifiableSet());
  }

  /** Forgets the groups not in {@code liveGroupUids} (deleted ones). */
  public void forgetAllBut(Set<String> liveGroupUids) {
    untilByGroup.keySet().retainAll(liveGroupUids);
  }
}
