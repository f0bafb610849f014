package dev.sharedipc.agent.report;

import dev.sharedipc.agent.reap.Decision;
import dev.sharedipc.agent.reap.PosixObjectReaper;
import dev.sharedipc.agent.scan.MemoryVolume;
import dev.sharedipc.agent.scan.MessageQueue;
import dev.sharedipc.agent.scan.PosixQueue;
import dev.sharedipc.agent.scan.SemaphoreSet;
import dev.sharedipc.agent.survey.Attributed;
import dev.sharedipc.agent.survey.Finding;
import dev.sharedipc.agent.survey.Findings;
import dev.sharedipc.agent.survey.IpcObjects;
import dev.sharedipc.agent.survey.NamespaceFinding;
import dev.sharedipc.agent.survey.PosixFindings;
import dev.sharedipc.agent.survey.PosixObjectFinding;
import dev.sharedipc.agent.survey.PosixVolumeFinding;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus.CrashLoopGuardReport;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus.GuardFileReport;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus.KernelLimits;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus.NamespaceReport;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus.NodeTotals;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus.OrphanReport;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus.PosixOrphanReport;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus.VolumeReport;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Builds the SharedIpcNode status from one pass, bounded so that the object stays far below etcd's
 * limit whatever the node holds: totals always; at most {@link #MAX_NAMESPACES} namespace entries,
 * {@link #MAX_VOLUMES} volumes (largest first) and {@link #MAX_ORPHANS} orphans; condition
 * Truncated=True says when something was cut. Pure apart from remembering condition transition
 * times between calls.
 *
 * <p>The host namespace has one entry for its unattributed segments and one per pod that its other
 * segments are attributed to (live creator or ledger), shaped like a pod namespace's entry plus
 * {@code host: true}: the operator sums entries per group and instance, so a hostIPC group's
 * segments reach its instances, and each segment is in exactly one entry.
 */
public final class NodeStatusBuilder {
  public static final int MAX_NAMESPACES = 200;
  public static final int MAX_VOLUMES = 200;
  public static final int MAX_ORPHANS = 20;

  private final String agentVersion;
  private final Map<String, Condition> previous = new HashMap<>();

  public NodeStatusBuilder(String agentVersion) {
    this.agentVersion = agentVersion;
  }

  /**
   * The status with the bounded removal counts: at most {@link RemovalCounts#MAX_GROUPS} groups, by
   * name and (always written, so that the operator reads it rather than the names) by group UID,
   * the rest summed.
   */
  public SharedIpcNodeStatus build(Findings f, List<Decision> decisions, RemovalCounts removed) {
    SharedIpcNodeStatus s = new SharedIpcNodeStatus();
    s.setAgentVersion(agentVersion);
    String finished = f.scannedAt().plus(f.duration()).toString();
    s.setLastScanTime(
        f.scannedAt()
            .plus(f.duration())
            .truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
            .toString());
    s.setLastScanDurationSeconds(Math.round(f.duration().toNanos() / 1e6) / 1e3);
    if (f.limits() != null) {
      KernelLimits k = new KernelLimits();
      k.shmmax = f.limits().shmmax().toString();
      k.shmall = f.limits().shmall().toString();
      k.shmmni = f.limits().shmmni();
      k.shmRmidForced = f.limits().shmRmidForced() < 0 ? null : f.limits().shmRmidForced();
      s.setKernel(k);
    }

    NodeTotals t = new NodeTotals();
    t.ipcNamespaces = (long) f.namespaces().size();
    t.segments = (long) f.segments().size();
    t.bytes = f.segments().stream().mapToLong(x -> x.segment().bytes()).sum();
    t.rssBytes = f.segments().stream().mapToLong(x -> Math.max(0, x.segment().rssBytes())).sum();
    t.swapBytes = f.segments().stream().mapToLong(x -> Math.max(0, x.segment().swapBytes())).sum();
    t.orphans = f.segments().stream().filter(x -> x.judgement().verdict().orphan()).count();
    t.unattributedSegments =
        f.segments().stream().filter(x -> !x.attribution().attributed()).count();
    t.unattributedBytes =
        f.segments().stream()
            .filter(x -> !x.attribution().attributed())
            .mapToLong(x -> x.segment().bytes())
            .sum();
    t.memoryVolumes = (long) f.volumes().size();
    t.memoryVolumeUsedBytes = f.volumes().stream().mapToLong(MemoryVolume::usedBytes).sum();
    ipcObjectTotals(t, f.ipcObjects());
    s.setTotals(t);

    boolean truncated = false;
    Map<Long, NamespaceReport> byInode = new TreeMap<>();
    for (NamespaceFinding n : f.namespaces()) {
      NamespaceReport r = new NamespaceReport();
      r.inode = n.namespace().inode();
      r.host = n.namespace().host() ? Boolean.TRUE : null;
      r.podUid = n.attribution().podUid();
      if (n.attribution().pod() != null) {
        r.podNamespace = n.attribution().pod().namespace();
        r.podName = n.attribution().pod().name();
        r.group = n.attribution().pod().group();
        r.groupUid = n.attribution().pod().groupUid();
        r.instance = n.attribution().pod().instance();
      }
      r.segments = 0L;
      r.bytes = 0L;
      r.rssBytes = 0L;
      r.orphans = 0L;
      byInode.put(r.inode, r);
    }
    // host-namespace segments attributed to a pod (live creator or ledger): one entry per pod, so
    // that
    // usage reaches the pod's group and instance exactly as a pod namespace's entry does
    Map<String, NamespaceReport> hostByPod = new TreeMap<>();
    for (Finding x : f.segments()) {
      NamespaceReport r = byInode.get(x.segment().ipcNamespace());
      if (r == null) {
        continue;
      }
      if (Boolean.TRUE.equals(r.host) && x.attribution().attributed()) {
        r =
            hostByPod.computeIfAbsent(
                x.attribution().podUid(), uid -> hostPodEntry(x.segment().ipcNamespace(), uid));
        if (r.podNamespace == null && x.attribution().pod() != null) {
          // the first segment seen may have named only the UID (creator alive, pod not yet known);
          // a ledger entry more
          r.podNamespace = x.attribution().pod().namespace();
          r.podName = x.attribution().pod().name();
          r.group = x.attribution().pod().group();
          r.groupUid = x.attribution().pod().groupUid();
          r.instance = x.attribution().pod().instance();
        }
      }
      r.segments++;
      r.bytes += x.segment().bytes();
      r.rssBytes += Math.max(0, x.segment().rssBytes());
      r.orphans += x.judgement().verdict().orphan() ? 1 : 0;
    }
    countIpcObjects(byInode, f.ipcObjects());
    // pod namespaces, the host namespace and its pods; a namespace of no pod and no objects says
    // nothing
    List<NamespaceReport> namespaces =
        java.util.stream.Stream.concat(byInode.values().stream(), hostByPod.values().stream())
            .filter(
                r ->
                    r.podUid != null
                        || r.segments > 0
                        || Boolean.TRUE.equals(r.host)
                        || holdsIpcObjects(r))
            .sorted(
                Comparator.comparingLong((NamespaceReport r) -> r.bytes)
                    .reversed()
                    .thenComparingLong(r -> r.inode)
                    .thenComparing(r -> r.podUid == null ? "" : r.podUid))
            .toList();
    if (namespaces.size() > MAX_NAMESPACES) {
      truncated = true;
      namespaces = namespaces.subList(0, MAX_NAMESPACES);
    }
    s.setIpcNamespaces(new ArrayList<>(namespaces));

    List<VolumeReport> volumes = new ArrayList<>();
    f.volumes().stream()
        .sorted(Comparator.comparingLong(MemoryVolume::usedBytes).reversed())
        .forEach(
            v -> {
              VolumeReport r = new VolumeReport();
              r.kind = v.kind().name();
              r.name = v.name();
              r.path = v.path();
              r.podUid = v.podUid();
              r.podNamespace = v.podNamespace();
              r.group = v.group();
              r.groupUid = v.groupUid();
              r.instance = v.instance();
              r.sizeBytes = v.sizeBytes();
              r.usedBytes = v.usedBytes();
              volumes.add(r);
            });
    if (volumes.size() > MAX_VOLUMES) {
      truncated = true;
    }
    s.setMemoryVolumes(new ArrayList<>(volumes.subList(0, Math.min(MAX_VOLUMES, volumes.size()))));

    Map<String, Decision> actions = new HashMap<>();
    for (Decision d : decisions) {
      actions.put(d.finding().segment().ipcNamespace() + "/" + d.finding().segment().shmid(), d);
    }
    List<Finding> orphans =
        f.segments().stream()
            .filter(x -> x.judgement().verdict().orphan())
            .sorted(Comparator.comparingLong((Finding x) -> x.segment().bytes()).reversed())
            .toList();
    if (orphans.size() > MAX_ORPHANS) {
      truncated = true;
    }
    List<OrphanReport> top = new ArrayList<>();
    for (Finding x : orphans.subList(0, Math.min(MAX_ORPHANS, orphans.size()))) {
      OrphanReport r = new OrphanReport();
      r.ipcNamespace = x.segment().ipcNamespace();
      r.shmid = (long) x.segment().shmid();
      r.key = x.segment().keyHex();
      r.bytes = x.segment().bytes();
      r.podUid = x.attribution().podUid();
      r.group = x.attribution().groupKey();
      r.verdict = x.judgement().verdict().name();
      Decision d = actions.get(x.segment().ipcNamespace() + "/" + x.segment().shmid());
      r.action = d == null ? "Kept" : d.action().name();
      r.reason = d == null ? x.judgement().reason() : d.reason();
      r.lastUsedTime = Instant.ofEpochSecond(x.segment().lastUseEpochSecond()).toString();
      top.add(r);
    }
    s.setTopOrphans(top);
    s.setOrphansRemovedByGroup(removed.byGroup());
    s.setOrphansRemovedByGroupUid(removed.byGroupUid());
    s.setOrphansRemovedInOtherGroups(removed.other() == 0 ? null : removed.other());

    List<Condition> conditions = new ArrayList<>();
    boolean unreadable =
        f.namespaces().stream()
            .anyMatch(n -> n.problem() != null && !n.problem().contains("is gone"));
    conditions.add(
        condition(
            "Ready",
            "True",
            unreadable ? "ScannedWithProblems" : "Scanned",
            unreadable || !f.problems().isEmpty()
                ? "The last scan finished with "
                    + f.problems().size()
                    + " problem(s); the first: "
                    + f.problems().get(0)
                : "The last scan read every IPC namespace on the node.",
            finished));
    conditions.add(
        condition(
            "Truncated",
            truncated ? "True" : "False",
            truncated ? "TooManyEntries" : "Complete",
            truncated
                ? "Detail was cut to stay small; the agent's /segments endpoint and CLI have all of it."
                : "Every namespace, volume and orphan is listed.",
            finished));
    s.setConditions(conditions);
    return s;
  }

  // --- semaphore sets and message queues (inventoried, never removed) ---

  private static void ipcObjectTotals(NodeTotals t, IpcObjects o) {
    t.semaphoreSets = (long) o.semaphoreSets().size();
    t.semaphores = o.semaphoreSets().stream().mapToLong(x -> x.object().nsems()).sum();
    t.messageQueues = (long) o.messageQueues().size();
    t.queuedBytes = o.messageQueues().stream().mapToLong(x -> x.object().queuedBytes()).sum();
    t.posixMessageQueues = (long) o.posixQueues().size();
    t.posixMessageQueuesUnknownNamespaces = (long) o.posixQueuesUnreadable().size();
  }

  /**
   * Counts each namespace's semaphore sets and queues into its entry. In the host namespace they go
   * to the entry without a pod: nothing says which pod made a semaphore set there (no creator pid
   * is kept), so none is guessed.
   */
  private static void countIpcObjects(Map<Long, NamespaceReport> byInode, IpcObjects o) {
    for (NamespaceReport r : byInode.values()) {
      r.semaphoreSets = 0L;
      r.semaphores = 0L;
      r.messageQueues = 0L;
      r.queuedBytes = 0L;
      boolean unknown = o.posixQueuesUnreadable().containsKey(r.inode);
      r.posixMessageQueues = unknown ? null : 0L;
      r.posixQueuedBytes = unknown ? null : 0L;
      r.posixMessageQueuesUnknown = unknown ? Boolean.TRUE : null;
    }
    for (Attributed<SemaphoreSet> x : o.semaphoreSets()) {
      NamespaceReport r = byInode.get(x.object().ipcNamespace());
      if (r != null) {
        r.semaphoreSets++;
        r.semaphores += x.object().nsems();
      }
    }
    for (Attributed<MessageQueue> x : o.messageQueues()) {
      NamespaceReport r = byInode.get(x.object().ipcNamespace());
      if (r != null) {
        r.messageQueues++;
        r.queuedBytes += x.object().queuedBytes();
      }
    }
    for (Attributed<PosixQueue> x : o.posixQueues()) {
      NamespaceReport r = byInode.get(x.object().ipcNamespace());
      if (r != null && r.posixMessageQueues != null) {
        r.posixMessageQueues++;
        r.posixQueuedBytes += Math.max(0, x.object().queuedBytes());
      }
    }
  }

  private static boolean holdsIpcObjects(NamespaceReport r) {
    return r.semaphoreSets != null && r.semaphoreSets > 0
        || r.messageQueues != null && r.messageQueues > 0
        || r.posixMessageQueues != null && r.posixMessageQueues > 0;
  }

  // ---- POSIX shared-memory objects and the crash-loop guard (issue "shared-memory inventory",
  // items 1-3) ----

  /** Most orphaned POSIX objects listed in {@code topOrphanObjects}. */
  public static final int MAX_ORPHAN_OBJECTS = 20;

  /**
   * Adds the POSIX side to a built status ({@link #addPosix(SharedIpcNodeStatus, PosixFindings,
   * List)}) and the POSIX objects removed per group, bounded as the segments' counts are.
   */
  public void addPosix(
      SharedIpcNodeStatus s,
      PosixFindings p,
      List<PosixObjectReaper.Decision> decisions,
      RemovalCounts removed) {
    addPosix(s, p, decisions);
    s.setPosixObjectsRemovedByGroup(removed.byGroup());
    s.setPosixObjectsRemovedInOtherGroups(removed.other() == 0 ? null : removed.other());
  }

  /**
   * Adds the POSIX side to a built status: per volume its objects, their bytes, its orphans, its
   * pod (so the operator reaches the pod's group) and the crash-loop guard; the host's /dev/shm as
   * a volume of its own; node totals; the largest orphaned objects with what was done with them.
   */
  public void addPosix(
      SharedIpcNodeStatus s, PosixFindings p, List<PosixObjectReaper.Decision> decisions) {
    Map<String, VolumeReport> byPath = new HashMap<>();
    if (s.getMemoryVolumes() != null) {
      s.getMemoryVolumes().forEach(r -> byPath.put(r.path, r));
    }
    for (PosixVolumeFinding v : p.volumes()) {
      VolumeReport r = byPath.get(v.volume().path());
      if (r == null) {
        if (v.volume().kind() != MemoryVolume.Kind.HostShm || s.getMemoryVolumes() == null) {
          continue; // cut by MAX_VOLUMES
        }
        r = volumeReport(v.volume());
        s.getMemoryVolumes().add(r);
      }
      if (v.pod() != null && r.podNamespace == null) {
        r.podNamespace = v.pod().namespace();
        r.podName = v.pod().name();
        r.group = v.pod().group();
        r.groupUid = v.pod().groupUid();
        r.instance = v.pod().instance();
      }
      r.objects = v.objects();
      r.objectBytes = v.objectBytes();
      r.orphanObjects = v.orphanObjects();
      if (v.guard() != null) {
        CrashLoopGuardReport g = new CrashLoopGuardReport();
        g.full = v.guard().full();
        g.backOff = v.guard().inBackOff();
        g.containers =
            new ArrayList<>(v.guard().inBackOff() ? v.guard().backOff() : v.guard().restarted());
        g.files = new ArrayList<>();
        for (PosixVolumeFinding.GuardFile file : v.guard().files()) {
          GuardFileReport fr = new GuardFileReport();
          fr.name = file.name();
          fr.bytes = file.bytes();
          fr.inUse = file.inUse();
          g.files.add(fr);
        }
        r.crashLoopGuard = g;
      }
    }
    s.setPosixObjects((long) p.objects().size());
    s.setPosixObjectBytes(p.objects().stream().mapToLong(o -> o.object().allocatedBytes()).sum());
    Map<String, PosixObjectReaper.Decision> actions = new HashMap<>();
    decisions.forEach(d -> actions.put(d.object().path(), d));
    List<PosixOrphanReport> top = new ArrayList<>();
    p.objects().stream()
        .filter(o -> o.judgement().orphan())
        .sorted(
            Comparator.comparingLong((PosixObjectFinding o) -> o.object().allocatedBytes())
                .reversed()
                .thenComparing(o -> o.object().path()))
        .limit(MAX_ORPHAN_OBJECTS)
        .forEach(
            o -> {
              PosixOrphanReport r = new PosixOrphanReport();
              r.path = o.object().path();
              r.volumeKind = o.object().volume().kind().name();
              r.bytes = o.object().allocatedBytes();
              r.podUid = o.pod() == null ? null : o.pod().uid();
              r.group = o.pod() == null ? null : o.pod().groupKey();
              PosixObjectReaper.Decision d = actions.get(o.object().path());
              r.verdict = (d == null ? o.judgement() : d.judgement()).verdict().name();
              r.action = d == null ? "Kept" : d.action().name();
              r.reason =
                  d == null
                      ? o.judgement().reason()
                      : d.judgement().reason() + (d.detail() == null ? "" : "; " + d.detail());
              top.add(r);
            });
    s.setTopOrphanObjects(top);
  }

  private static VolumeReport volumeReport(MemoryVolume v) {
    VolumeReport r = new VolumeReport();
    r.kind = v.kind().name();
    r.name = v.name();
    r.path = v.path();
    r.podUid = v.podUid();
    r.sizeBytes = v.sizeBytes();
    r.usedBytes = v.usedBytes();
    return r;
  }

  /**
   * The entry of one pod's segments in the host namespace (its pod details are filled from the
   * segments' attribution).
   */
  private static NamespaceReport hostPodEntry(long hostInode, String podUid) {
    NamespaceReport r = new NamespaceReport();
    r.inode = hostInode;
    r.host = Boolean.TRUE;
    r.podUid = podUid;
    r.segments = 0L;
    r.bytes = 0L;
    r.rssBytes = 0L;
    r.orphans = 0L;
    return r;
  }

  private Condition condition(
      String type, String status, String reason, String message, String now) {
    Condition old = previous.get(type);
    String since =
        old != null && status.equals(old.getStatus())
            ? old.getLastTransitionTime()
            : now.substring(0, Math.min(now.length(), 19)) + "Z";
    Condition c =
        new ConditionBuilder()
            .withType(type)
            .withStatus(status)
            .withReason(reason)
            .withMessage(message)
            .withLastTransitionTime(since)
            .build();
    previous.put(type, c);
    return c;
  }
}
