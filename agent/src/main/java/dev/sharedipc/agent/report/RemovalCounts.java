package dev.sharedipc.agent.report;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Removals counted per group since the agent started, bounded: at most {@link #MAX_GROUPS} groups,
 * the ones with the most recent removals; when another group needs a place, the group whose last
 * removal is oldest gives it up and its count moves to {@link #other()}. The sum over groups and
 * other never decreases, so a total computed from it is a true counter; a node that sees thousands
 * of short-lived groups keeps {@value #MAX_GROUPS} entries in its SharedIpcNode status and as many
 * series in its metrics.
 *
 * <p>A group is its name and, when known, its UID: a group deleted and created again under the same
 * name is another group, whose count starts at zero in {@link #byGroupUid()} (what the operator
 * reads), while {@link #byGroup()} (by name, for people, metrics and older operators) sums both.
 */
public final class RemovalCounts {
  public static final int MAX_GROUPS = 50;

  /** The metric label value that stands for every group without its own series. */
  public static final String OTHER = "_other";

  /** One group: "namespace/name" and its UID, null when not known. */
  private record Group(String key, String uid) {}

  private final int maxGroups;
  private final Map<Group, Long> byGroup = new LinkedHashMap<>(16, 0.75f, true);
  private long other;

  public RemovalCounts() {
    this(MAX_GROUPS);
  }

  RemovalCounts(int maxGroups) {
    this.maxGroups = maxGroups;
  }

  /** Counts one removal for a group ("namespace/name"; null counts in other) of unknown UID. */
  public void add(String group) {
    add(group, null);
  }

  /** Counts one removal for a group ("namespace/name"; null counts in other) and its UID. */
  public synchronized void add(String group, String groupUid) {
    if (group == null) {
      other++;
      return;
    }
    Group g = new Group(group, groupUid);
    if (!byGroup.containsKey(g) && byGroup.size() >= maxGroups) {
      var eldest = byGroup.entrySet().iterator().next();
      other += eldest.getValue();
      byGroup.remove(eldest.getKey());
    }
    byGroup.merge(g, 1L, Long::sum);
  }

  /** The groups with their own count by name, sorted ("namespace/name" -> count). */
  public synchronized Map<String, Long> byGroup() {
    Map<String, Long> byName = new TreeMap<>();
    byGroup.forEach((g, count) -> byName.merge(g.key(), count, Long::sum));
    return byName;
  }

  /** The same counts by group UID, for the groups whose UID was known (uid -> count). */
  public synchronized Map<String, Long> byGroupUid() {
    Map<String, Long> byUid = new TreeMap<>();
    byGroup.forEach(
        (g, count) -> {
          if (g.uid() != null) {
            byUid.merge(g.uid(), count, Long::sum);
          }
        });
    return byUid;
  }

  /** Removals of groups that gave up their place (and of segments without a group). */
  public synchronized long other() {
    return other;
  }
}
