package dev.sharedipc.agent.report;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Removals counted per group since the agent started, bounded: at most {@link #MAX_GROUPS} groups
 * by name, the ones with the most recent removals; when another group needs a place, the group
 * whose last removal is oldest gives it up and its count moves to {@link #other()}. The sum over
 * groups and other never decreases, so a total computed from it is a true counter; a node that sees
 * thousands of short-lived groups keeps {@value #MAX_GROUPS} entries in its SharedIpcNode status
 * and as many series in its metrics.
 */
public final class RemovalCounts {
  public static final int MAX_GROUPS = 50;

  /** The metric label value that stands for every group without its own series. */
  public static final String OTHER = "_other";

  private final int maxGroups;
  private final Map<String, Long> byGroup = new LinkedHashMap<>(16, 0.75f, true);
  private long other;

  public RemovalCounts() {
    this(MAX_GROUPS);
  }

  RemovalCounts(int maxGroups) {
    this.maxGroups = maxGroups;
  }

  /** Counts one removal for a group ("namespace/name"; null counts in other). */
  public synchronized void add(String group) {
    if (group == null) {
      other++;
      return;
    }
    if (!byGroup.containsKey(group) && byGroup.size() >= maxGroups) {
      var eldest = byGroup.entrySet().iterator().next();
      other += eldest.getValue();
      byGroup.remove(eldest.getKey());
    }
    byGroup.merge(group, 1L, Long::sum);
  }

  /** The groups with their own count, sorted by name. */
  public synchronized Map<String, Long> byGroup() {
    return new TreeMap<>(byGroup);
  }

  /** Removals of groups that gave up their place (and of segments without a group). */
  public synchronized long other() {
    return other;
  }
}
