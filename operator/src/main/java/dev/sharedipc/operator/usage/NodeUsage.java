package dev.sharedipc.operator.usage;

import dev.sharedipc.api.Labels;
import dev.sharedipc.api.ReportCadence;
import dev.sharedipc.api.v1alpha1.IpcObjectUsage;
import dev.sharedipc.api.v1alpha1.SegmentUsage;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcNode;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Sums what the node agents reported about one group: segments per instance (from each pod IPC
 * namespace entry, including host-namespace segments the agent attributed to one of the group's
 * pods), semaphore sets and message queues per instance (from the same entries), memory-volume
 * bytes per instance, and orphans removed. A pure function of the group, its pods, the
 * SharedIpcNode reports, the names of the Nodes that exist, and the time. An entry is the group's
 * by the group's UID where the agent reports one, else by name ({@link Entries}).
 *
 * <p>Only reports that tell the present count: a report whose Node no longer exists ({@code
 * NodeGone}) or whose {@code lastScanTime} (the agent's heartbeat: it is renewed with every write,
 * at least once per {@link ReportCadence#HEARTBEAT}) is older than the maximum report age ({@code
 * ReportStale}) contributes nothing and is listed in {@link GroupUsage#ignored()}, so that status
 * can say why. Entries of instances at or beyond {@code replicas} are not counted. An instance
 * whose pods are bound to a node with a counted, complete report that lists nothing for it holds no
 * segments: it is judged with zero (a hostIPC instance that created none has no entry of its own,
 * since its pods live in the node's namespace).
 */
public final class NodeUsage {
  /**
   * How old a report may be and still count: {@link ReportCadence#STALE_AFTER}, two missed
   * heartbeats of the agent (which writes a quiet report only once per {@link
   * ReportCadence#HEARTBEAT}) and a minute, so a quiet node stays counted and a slow scan or one
   * failed write does not make usage flicker.
   */
  public static final Duration DEFAULT_MAX_REPORT_AGE = ReportCadence.STALE_AFTER;

  public static final String REPORT_STALE = "ReportStale";
  public static final String NODE_GONE = "NodeGone";

  /** A report that mentions the group but does not count, with why. */
  public record IgnoredReport(String node, String reason, String message, Set<Integer> instances) {}

  /**
   * The group's share of the node reports.
   *
   * @param ignored reports that mention the group but were not counted
   * @param staleAt when the oldest counted report turns stale (look again then), if any counted
   */
  public record GroupUsage(
      Map<Integer, SegmentUsage> segmentsByInstance,
      Map<Integer, Long> sharedMemoryUsedByInstance,
      long orphansRemoved,
      List<IgnoredReport> ignored,
      Optional<Instant> staleAt,
      // semaphore sets and message queues per instance (inventoried, never removed)
      Map<Integer, IpcObjectUsage> ipcObjectsByInstance,
      // the crash-loop guard's message per instance whose volume is full while a container restarts
      Map<Integer, String> sharedMemoryFull) {
    public static final GroupUsage NONE = new GroupUsage(Map.of(), Map.of(), 0);

    /** Usage of segments and volumes only. */
    public GroupUsage(
        Map<Integer, SegmentUsage> segmentsByInstance,
        Map<Integer, Long> sharedMemoryUsedByInstance,
        long orphansRemoved,
        List<IgnoredReport> ignored,
        Optional<Instant> staleAt) {
      this(
          segmentsByInstance,
          sharedMemoryUsedByInstance,
          orphansRemoved,
          ignored,
          staleAt,
          Map.of(),
          Map.of());
    }

    /** Usage from counted reports only, none ignored. */
    public GroupUsage(
        Map<Integer, SegmentUsage> segmentsByInstance,
        Map<Integer, Long> sharedMemoryUsedByInstance,
        long orphansRemoved) {
      this(
          segmentsByInstance,
          sharedMemoryUsedByInstance,
          orphansRemoved,
          List.of(),
          Optional.empty());
    }

    public boolean isEmpty() {
      return segmentsByInstance.isEmpty()
          && sharedMemoryUsedByInstance.isEmpty()
          && orphansRemoved == 0
          && ipcObjectsByInstance.isEmpty();
    }
  }

  private final Duration maxReportAge;

  public NodeUsage() {
    this(DEFAULT_MAX_REPORT_AGE);
  }

  public NodeUsage(Duration maxReportAge) {
    this.maxReportAge = maxReportAge;
  }

  /**
   * The group's usage from the reports.
   *
   * @param ownedPods the group's pods: a pod UID tells the instance of entries the agent could
   *     attribute only to a UID (for instance a pod's memory emptyDir), and a pod's node tells
   *     which report speaks for its instance
   * @param existingNodes names of the Nodes that exist; a report of any other node is ignored
   * @param now the time reports are aged against
   */
  public GroupUsage of(
      SharedIpcGroup group,
      List<SharedIpcNode> reports,
      List<Pod> ownedPods,
      Set<String> existingNodes,
      Instant now) {
    String ns = group.getMetadata().getNamespace();
    String name = group.getMetadata().getName();
    int replicas = group.getSpec().getReplicas() == null ? 1 : group.getSpec().getReplicas();
    Map<String, Integer> instanceByPodUid = new HashMap<>();
    Map<String, Set<Integer>> instancesByNode = new HashMap<>();
    for (Pod pod : ownedPods) {
      Integer index = instanceOf(pod);
      if (index != null && index < replicas) {
        instanceByPodUid.put(pod.getMetadata().getUid(), index);
        if (pod.getSpec() != null && pod.getSpec().getNodeName() != null) {
          instancesByNode
              .computeIfAbsent(pod.getSpec().getNodeName(), n -> new TreeSet<>())
              .add(index);
        }
      }
    }
    Entries entries =
        new Entries(ns, name, group.getMetadata().getUid(), instanceByPodUid, replicas);
    Map<Integer, SegmentUsage> segments = new TreeMap<>();
    Map<Integer, Long> volumes = new TreeMap<>();
    Map<Integer, IpcObjectUsage> ipcObjects = new TreeMap<>();
    Map<Integer, String> full = new TreeMap<>();
    List<IgnoredReport> ignored = new ArrayList<>();
    Instant staleAt = null;
    long removed = 0;
    for (SharedIpcNode report : reports) {
      SharedIpcNodeStatus status = report.getStatus();
      if (status == null) {
        continue;
      }
      String node = report.getMetadata().getName();
      Set<Integer> mentioned = new TreeSet<>();
      for (SharedIpcNodeStatus.NamespaceReport r : nullToEmpty(status.getIpcNamespaces())) {
        Optional.ofNullable(
                entries.instance(r.podNamespace, r.group, r.groupUid, r.instance, r.podUid))
            .ifPresent(mentioned::add);
      }
      for (SharedIpcNodeStatus.VolumeReport v : nullToEmpty(status.getMemoryVolumes())) {
        Optional.ofNullable(
                entries.instance(v.podNamespace, v.group, v.groupUid, v.instance, v.podUid))
            .ifPresent(mentioned::add);
      }
      Long removedHere = entries.removed(status);
      boolean mentions =
          !mentioned.isEmpty() || removedHere != null || instancesByNode.containsKey(node);
      mentioned.addAll(instancesByNode.getOrDefault(node, Set.of()));

      Instant scanned = parse(status.getLastScanTime());
      if (!existingNodes.contains(node)) {
        if (mentions) {
          ignored.add(
              new IgnoredReport(
                  node,
                  NODE_GONE,
                  "the report of node " + node + " is ignored: node " + node + " no longer exists",
                  mentioned));
        }
        continue;
      }
      if (scanned == null || scanned.plus(maxReportAge).isBefore(now)) {
        if (mentions) {
          ignored.add(
              new IgnoredReport(
                  node,
                  REPORT_STALE,
                  "the report of node "
                      + node
                      + " is ignored: "
                      + (scanned == null
                          ? "it has no lastScanTime"
                          : "its last scan was at "
                              + scanned
                              + ", more than "
                              + human(maxReportAge)
                              + " ago")
                      + "; check the sharedipc agent on node "
                      + node,
                  mentioned));
        }
        continue;
      }
      if (mentions) {
        Instant expires = scanned.plus(maxReportAge);
        staleAt = staleAt == null || expires.isBefore(staleAt) ? expires : staleAt;
      }

      for (SharedIpcNodeStatus.NamespaceReport r : nullToEmpty(status.getIpcNamespaces())) {
        Integer instance =
            entries.instance(r.podNamespace, r.group, r.groupUid, r.instance, r.podUid);
        if (instance != null) {
          SegmentUsage u = segments.computeIfAbsent(instance, i -> new SegmentUsage(0, 0, 0, 0));
          u.setCount(u.getCount() + nz(r.segments));
          u.setBytes(u.getBytes() + nz(r.bytes));
          u.setRssBytes(u.getRssBytes() + nz(r.rssBytes));
          u.setOrphans(u.getOrphans() + nz(r.orphans));
          ipcObjects.merge(
              instance,
              new IpcObjectUsage(
                  nz(r.semaphoreSets),
                  nz(r.semaphores),
                  nz(r.messageQueues),
                  nz(r.queuedBytes),
                  nz(r.posixMessageQueues),
                  nz(r.posixQueuedBytes)),
              IpcObjectUsage::add);
        }
      }
      for (SharedIpcNodeStatus.VolumeReport v : nullToEmpty(status.getMemoryVolumes())) {
        Integer instance =
            entries.instance(v.podNamespace, v.group, v.groupUid, v.instance, v.podUid);
        if (instance != null) {
          volumes.merge(instance, nz(v.usedBytes), Long::sum);
          if (v.crashLoopGuard != null) {
            full.putIfAbsent(instance, crashLoopMessage(v, node));
          }
        }
      }
      if (!truncated(status)) {
        // The agent lists every namespace of a complete report: no entry for an instance on this
        // node means no segments.
        for (Integer instance : instancesByNode.getOrDefault(node, Set.of())) {
          segments.computeIfAbsent(instance, i -> new SegmentUsage(0, 0, 0, 0));
          ipcObjects.computeIfAbsent(instance, i -> new IpcObjectUsage(0, 0, 0, 0, 0, 0));
        }
      }
      removed += nz(removedHere);
    }
    return new GroupUsage(
        segments, volumes, removed, ignored, Optional.ofNullable(staleAt), ipcObjects, full);
  }

  /**
   * What the agent's crash-loop guard says about one volume, as a sentence: which pod, how full,
   * which containers restart, the largest files and whether a process uses them.
   */
  static String crashLoopMessage(SharedIpcNodeStatus.VolumeReport v, String node) {
    SharedIpcNodeStatus.CrashLoopGuardReport g = v.crashLoopGuard;
    long percent =
        v.sizeBytes == null || v.sizeBytes == 0 ? 100 : nz(v.usedBytes) * 100 / v.sizeBytes;
    String pod = v.podName != null ? "pod " + v.podName : "pod " + v.podUid;
    String where = "DevShm".equals(v.kind) ? "/dev/shm" : "memory volume " + v.name;
    String containers =
        g.containers == null || g.containers.isEmpty()
            ? "a container"
            : "container " + String.join(", ", g.containers);
    String files =
        g.files == null
            ? ""
            : g.files.stream()
                .map(
                    f ->
                        f.name
                            + " ("
                            + dev.sharedipc.operator.render.Quantities.human(nz(f.bytes))
                            + (f.inUse == null ? "" : f.inUse ? ", in use" : ", not open")
                            + ")")
                .collect(java.util.stream.Collectors.joining(", "));
    return "the "
        + where
        + " of "
        + pod
        + " on node "
        + node
        + " is "
        + percent
        + "% full ("
        + dev.sharedipc.operator.render.Quantities.human(nz(v.usedBytes))
        + " of "
        + dev.sharedipc.operator.render.Quantities.human(nz(v.sizeBytes))
        + ") while "
        + containers
        + (Boolean.TRUE.equals(g.backOff) ? " is in CrashLoopBackOff" : " restarted recently")
        + (files.isEmpty() ? "" : "; largest files: " + files);
  }

  /**
   * Every group a node report mentions, as "namespace/name": which groups to reconcile when it
   * changes. By name even where entries carry a group UID: a group re-created under the same name
   * is woken too, and {@link #of} then counts for it only what carries its UID.
   */
  public static Set<String> groupsIn(SharedIpcNode node) {
    Set<String> groups = new TreeSet<>();
    SharedIpcNodeStatus status = node.getStatus();
    if (status == null) {
      return groups;
    }
    nullToEmpty(status.getIpcNamespaces()).stream()
        .filter(r -> r.group != null && r.podNamespace != null)
        .forEach(r -> groups.add(r.podNamespace + "/" + r.group));
    nullToEmpty(status.getMemoryVolumes()).stream()
        .filter(v -> v.group != null && v.podNamespace != null)
        .forEach(v -> groups.add(v.podNamespace + "/" + v.group));
    if (status.getOrphansRemovedByGroup() != null) {
      groups.addAll(status.getOrphansRemovedByGroup().keySet());
    }
    return groups;
  }

  /**
   * Which entries of a report are the group's, in one place. A group deleted and created again
   * under the same name is another group: an entry that carries a {@code groupUid} counts only for
   * the group of that UID, so the new group is not charged what is left of the old one (segments,
   * its old pods' volumes, orphans removed). An entry without one is matched by namespace and group
   * name: agents before {@code groupUid} write none, and a rolling upgrade has reports of both;
   * there the old flaw remains until the node's agent is upgraded.
   */
  private record Entries(
      String namespace,
      String name,
      String uid,
      Map<String, Integer> instanceByPodUid,
      int replicas) {

    /** Whether an entry names this group: by UID when it carries one, else by name. */
    boolean names(String podNamespace, String group, String groupUid) {
      return groupUid != null
          ? groupUid.equals(uid)
          : Objects.equals(podNamespace, namespace) && Objects.equals(group, name);
    }

    /**
     * The instance an entry counts for: by its group and instance labels when it names this group,
     * else by its pod UID; null when not this group's or beyond replicas.
     */
    Integer instance(
        String podNamespace, String group, String groupUid, Integer instance, String podUid) {
      Integer index =
          instance != null && names(podNamespace, group, groupUid)
              ? instance
              : podUid == null ? null : instanceByPodUid.get(podUid);
      return index != null && index >= 0 && index < replicas ? index : null;
    }

    /**
     * The orphans the report says were removed for this group: from {@code
     * orphansRemovedByGroupUid} when the report has it, else (an agent before it) from {@code
     * orphansRemovedByGroup} by "namespace/name".
     */
    Long removed(SharedIpcNodeStatus status) {
      if (status.getOrphansRemovedByGroupUid() != null) {
        return uid == null ? null : status.getOrphansRemovedByGroupUid().get(uid);
      }
      return status.getOrphansRemovedByGroup() == null
          ? null
          : status.getOrphansRemovedByGroup().get(namespace + "/" + name);
    }
  }

  private static Integer instanceOf(Pod pod) {
    String index =
        pod.getMetadata().getLabels() == null
            ? null
            : pod.getMetadata().getLabels().get(Labels.INSTANCE);
    return index != null && index.matches("[0-9]{1,9}") ? Integer.valueOf(index) : null;
  }

  private static boolean truncated(SharedIpcNodeStatus status) {
    return nullToEmpty(status.getConditions()).stream()
        .anyMatch(c -> "Truncated".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  private static Instant parse(String time) {
    try {
      return time == null ? null : Instant.parse(time);
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private static String human(Duration d) {
    return d.toSeconds() % 60 == 0 ? d.toMinutes() + "m" : d.toSeconds() + "s";
  }

  private static long nz(Long v) {
    return v == null ? 0 : v;
  }

  private static <T> List<T> nullToEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }
}
