package dev.sharedipc.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/**
 * A node agent's report. Bounded in size on purpose (etcd objects must stay well under 1 MiB):
 * totals always, one entry per pod IPC namespace and memory volume, per-segment detail only for the
 * top orphans. Full detail is on the agent's HTTP endpoint and CLI.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SharedIpcNodeStatus {

  @JsonPropertyDescription("Version of the agent that wrote this report.")
  private String agentVersion;

  @JsonPropertyDescription(
      "When the scan of the last write finished (RFC 3339). The agent writes when the report changes "
          + "materially and at least every 5 minutes, so this is its heartbeat: the operator ignores a report older than 11 minutes.")
  private String lastScanTime;

  @JsonPropertyDescription("How long the last scan took, in seconds.")
  private Double lastScanDurationSeconds;

  @JsonPropertyDescription("The node kernel's System V shared memory limits.")
  private KernelLimits kernel;

  @JsonPropertyDescription("Node-wide totals.")
  private NodeTotals totals;

  @JsonPropertyDescription(
      "One entry per IPC namespace holding segments, with its pod when known. The host namespace"
          + " (host: true) has one entry without a pod for its unattributed segments and one per pod (hostIPC) that its other"
          + " segments are attributed to, by live creator or by the agent's ledger; each segment is in exactly one entry.")
  private List<NamespaceReport> ipcNamespaces = new ArrayList<>();

  @JsonPropertyDescription(
      "One entry per memory-backed volume (memory emptyDir, pod /dev/shm, SameNode shared directory).")
  private List<VolumeReport> memoryVolumes = new ArrayList<>();

  @JsonPropertyDescription("The largest orphaned segments and what the agent did with them.")
  private List<OrphanReport> topOrphans = new ArrayList<>();

  @JsonPropertyDescription(
      "Removals per group, counted since the agent started: namespace/name -> count. At most 50 groups, "
          + "those with the latest removals; the others' removals are summed in orphansRemovedInOtherGroups.")
  private java.util.Map<String, Long> orphansRemovedByGroup = new java.util.TreeMap<>();

  @JsonPropertyDescription(
      "The removals of orphansRemovedByGroup by the group's UID: uid -> count, for the groups whose UID the"
          + " agent knew. The operator reads this map when present, so a group re-created under the same name"
          + " starts at zero; only from a report without it (an agent before this field) does it read"
          + " orphansRemovedByGroup by name.")
  private java.util.Map<String, Long> orphansRemovedByGroupUid;

  @JsonPropertyDescription(
      "Removals since the agent started of groups not listed in orphansRemovedByGroup (which keeps at most 50).")
  private Long orphansRemovedInOtherGroups;

  @JsonPropertyDescription(
      "POSIX shared-memory objects (files in /dev/shm and memory volumes) removed per group, counted since "
          + "the agent started: namespace/name -> count. At most 50 groups, those with the latest removals; the others' removals are "
          + "summed in posixObjectsRemovedInOtherGroups.")
  private java.util.Map<String, Long> posixObjectsRemovedByGroup = new java.util.TreeMap<>();

  @JsonPropertyDescription(
      "POSIX shared-memory objects removed since the agent started in groups not listed in "
          + "posixObjectsRemovedByGroup (which keeps at most 50), or in volumes of pods of no group.")
  private Long posixObjectsRemovedInOtherGroups;

  @JsonPropertyDescription(
      "Ready (the last scan succeeded) and Truncated (detail was cut to stay bounded).")
  private List<Condition> conditions = new ArrayList<>();

  public String getAgentVersion() {
    return agentVersion;
  }

  public void setAgentVersion(String agentVersion) {
    this.agentVersion = agentVersion;
  }

  public String getLastScanTime() {
    return lastScanTime;
  }

  public void setLastScanTime(String lastScanTime) {
    this.lastScanTime = lastScanTime;
  }

  public Double getLastScanDurationSeconds() {
    return lastScanDurationSeconds;
  }

  public void setLastScanDurationSeconds(Double lastScanDurationSeconds) {
    this.lastScanDurationSeconds = lastScanDurationSeconds;
  }

  public KernelLimits getKernel() {
    return kernel;
  }

  public void setKernel(KernelLimits kernel) {
    this.kernel = kernel;
  }

  public NodeTotals getTotals() {
    return totals;
  }

  public void setTotals(NodeTotals totals) {
    this.totals = totals;
  }

  public List<NamespaceReport> getIpcNamespaces() {
    return ipcNamespaces;
  }

  public void setIpcNamespaces(List<NamespaceReport> ipcNamespaces) {
    this.ipcNamespaces = ipcNamespaces;
  }

  public List<VolumeReport> getMemoryVolumes() {
    return memoryVolumes;
  }

  public void setMemoryVolumes(List<VolumeReport> memoryVolumes) {
    this.memoryVolumes = memoryVolumes;
  }

  public List<OrphanReport> getTopOrphans() {
    return topOrphans;
  }

  public void setTopOrphans(List<OrphanReport> topOrphans) {
    this.topOrphans = topOrphans;
  }

  public java.util.Map<String, Long> getOrphansRemovedByGroup() {
    return orphansRemovedByGroup;
  }

  public void setOrphansRemovedByGroup(java.util.Map<String, Long> orphansRemovedByGroup) {
    this.orphansRemovedByGroup = orphansRemovedByGroup;
  }

  public java.util.Map<String, Long> getOrphansRemovedByGroupUid() {
    return orphansRemovedByGroupUid;
  }

  public void setOrphansRemovedByGroupUid(java.util.Map<String, Long> orphansRemovedByGroupUid) {
    this.orphansRemovedByGroupUid = orphansRemovedByGroupUid;
  }

  public java.util.Map<String, Long> getPosixObjectsRemovedByGroup() {
    return posixObjectsRemovedByGroup;
  }

  public void setPosixObjectsRemovedByGroup(
      java.util.Map<String, Long> posixObjectsRemovedByGroup) {
    this.posixObjectsRemovedByGroup = posixObjectsRemovedByGroup;
  }

  public Long getPosixObjectsRemovedInOtherGroups() {
    return posixObjectsRemovedInOtherGroups;
  }

  public void setPosixObjectsRemovedInOtherGroups(Long posixObjectsRemovedInOtherGroups) {
    this.posixObjectsRemovedInOtherGroups = posixObjectsRemovedInOtherGroups;
  }

  public Long getOrphansRemovedInOtherGroups() {
    return orphansRemovedInOtherGroups;
  }

  public void setOrphansRemovedInOtherGroups(Long orphansRemovedInOtherGroups) {
    this.orphansRemovedInOtherGroups = orphansRemovedInOtherGroups;
  }

  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions;
  }

  /** The kernel's limits, from shmctl(IPC_INFO) and /proc/sys/kernel. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class KernelLimits {
    @JsonPropertyDescription(
        "Largest segment in bytes (kernel.shmmax), exactly, as a decimal string: the kernel holds it as an"
            + " unsigned 64-bit integer whose stock value, 18446744073692774399 (in effect unlimited), is beyond what a JSON"
            + " number in a Kubernetes object keeps exactly.")
    @Pattern("^[0-9]+$")
    public String shmmax;

    @JsonPropertyDescription(
        "Total shared memory in pages (kernel.shmall), exactly, as a decimal string: unsigned 64-bit in"
            + " the kernel, like shmmax (stock value 18446744073692774399).")
    @Pattern("^[0-9]+$")
    public String shmall;

    @JsonPropertyDescription("Most segments per IPC namespace (kernel.shmmni).")
    public Long shmmni;

    @JsonPropertyDescription(
        "kernel.shm_rmid_forced: 1 when segments are removed as soon as their last user detaches or exits.")
    public Long shmRmidForced;
  }

  /** Node-wide sums. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class NodeTotals {
    @JsonPropertyDescription("Distinct IPC namespaces seen.")
    public Long ipcNamespaces;

    @JsonPropertyDescription("System V segments in all namespaces.")
    public Long segments;

    @JsonPropertyDescription("Bytes of all segments.")
    public Long bytes;

    @JsonPropertyDescription("Resident bytes of all segments.")
    public Long rssBytes;

    @JsonPropertyDescription("Swapped-out bytes of all segments.")
    public Long swapBytes;

    @JsonPropertyDescription("Segments judged orphaned.")
    public Long orphans;

    @JsonPropertyDescription("Segments not attributed to any pod (host or unknown namespaces).")
    public Long unattributedSegments;

    @JsonPropertyDescription("Bytes of the unattributed segments.")
    public Long unattributedBytes;

    @JsonPropertyDescription("Memory-backed volumes seen.")
    public Long memoryVolumes;

    @JsonPropertyDescription("Bytes used in all memory-backed volumes.")
    public Long memoryVolumeUsedBytes;

    // --- semaphore sets and message queues (inventoried, never removed) ---
    @JsonPropertyDescription("System V semaphore sets in all namespaces.")
    public Long semaphoreSets;

    @JsonPropertyDescription("Semaphores in those sets.")
    public Long semaphores;

    @JsonPropertyDescription("System V message queues in all namespaces.")
    public Long messageQueues;

    @JsonPropertyDescription("Bytes waiting in those queues.")
    public Long queuedBytes;

    @JsonPropertyDescription("POSIX message queues in the namespaces where they could be read.")
    public Long posixMessageQueues;

    @JsonPropertyDescription(
        "IPC namespaces whose POSIX message queues could not be read (no process there shows an mqueue filesystem at /dev/mqueue): their queues are unknown, not none.")
    public Long posixMessageQueuesUnknownNamespaces;
  }

  /** One IPC namespace and the pod it belongs to. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class NamespaceReport {
    @JsonPropertyDescription("Inode number of the IPC namespace (as in /proc/<pid>/ns/ipc).")
    public Long inode;

    @JsonPropertyDescription("True for the node's own (host) IPC namespace.")
    public Boolean host;

    @JsonPropertyDescription("UID of the pod whose processes live in this namespace, when known.")
    public String podUid;

    @JsonPropertyDescription("Namespace of that pod.")
    public String podNamespace;

    @JsonPropertyDescription("Name of that pod.")
    public String podName;

    @JsonPropertyDescription("SharedIpcGroup of that pod (sharedipc.dev/group label).")
    public String group;

    @JsonPropertyDescription(
        "UID of that SharedIpcGroup (the pod's controller ownerReference): the operator counts the entry"
            + " for the group of this UID only, so a group re-created under the same name is not charged"
            + " its predecessor's leftovers. Absent when the agent does not know it (agents before groupUid"
            + " was reported, ledger entries they wrote); the operator then matches podNamespace and group by name.")
    public String groupUid;

    @JsonPropertyDescription("Instance of that pod (sharedipc.dev/instance label).")
    public Integer instance;

    @JsonPropertyDescription("Segments in the namespace.")
    public Long segments;

    @JsonPropertyDescription("Bytes of those segments.")
    public Long bytes;

    @JsonPropertyDescription("Resident bytes of those segments.")
    public Long rssBytes;

    @JsonPropertyDescription("Orphaned segments in the namespace.")
    public Long orphans;

    // --- semaphore sets and message queues (inventoried, never removed) ---
    @JsonPropertyDescription("System V semaphore sets in the namespace.")
    public Long semaphoreSets;

    @JsonPropertyDescription("Semaphores in those sets (the sum of their nsems).")
    public Long semaphores;

    @JsonPropertyDescription("System V message queues in the namespace.")
    public Long messageQueues;

    @JsonPropertyDescription("Bytes waiting in those queues.")
    public Long queuedBytes;

    @JsonPropertyDescription(
        "POSIX message queues in the namespace; absent when they could not be read (see posixMessageQueuesUnknown).")
    public Long posixMessageQueues;

    @JsonPropertyDescription("Bytes waiting in the POSIX message queues.")
    public Long posixQueuedBytes;

    @JsonPropertyDescription(
        "True when the namespace's POSIX message queues could not be read: unknown, not none.")
    public Boolean posixMessageQueuesUnknown;
  }

  /** One memory-backed volume. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class VolumeReport {
    @JsonPropertyDescription(
        "EmptyDir, DevShm, NodeShared (a SameNode hostPath directory) or CsiInstance (a SameNode instance's tmpfs from the CSI driver; group and instance set, no pod).")
    public String kind;

    @JsonPropertyDescription("Volume name (emptyDir) or directory name.")
    public String name;

    @JsonPropertyDescription("Path on the node.")
    public String path;

    @JsonPropertyDescription("UID of the pod owning it, when known.")
    public String podUid;

    @JsonPropertyDescription("Namespace of that pod.")
    public String podNamespace;

    @JsonPropertyDescription("Name of that pod.")
    public String podName;

    @JsonPropertyDescription("SharedIpcGroup of that pod.")
    public String group;

    @JsonPropertyDescription(
        "UID of that SharedIpcGroup (the pod's controller ownerReference, or the uid in a SameNode"
            + " directory's name): the operator counts the volume for the group of this UID only. Absent when"
            + " the agent does not know it (older agents, directories named before the uid was part of the name);"
            + " the operator then matches podNamespace and group by name.")
    public String groupUid;

    @JsonPropertyDescription("Instance of that pod.")
    public Integer instance;

    @JsonPropertyDescription("Size of the tmpfs in bytes.")
    public Long sizeBytes;

    @JsonPropertyDescription("Bytes in use.")
    public Long usedBytes;

    // ---- POSIX shared-memory objects (issue "shared-memory inventory") ----

    @JsonPropertyDescription("POSIX shared-memory objects (files) in the volume.")
    public Long objects;

    @JsonPropertyDescription("Allocated bytes of those files (what the memory cgroup pays).")
    public Long objectBytes;

    @JsonPropertyDescription("Files that no process on the node has open or mapped.")
    public Long orphanObjects;

    @JsonPropertyDescription(
        "Set when the volume is at least 90% full and a container of its pod is in CrashLoopBackOff or "
            + "restarted within the grace period: a crash that left files behind makes every restart fail for lack of room.")
    public CrashLoopGuardReport crashLoopGuard;
  }

  /** One orphaned segment and the verdict on it. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class OrphanReport {
    @JsonPropertyDescription("Inode number of the segment's IPC namespace.")
    public Long ipcNamespace;

    @JsonPropertyDescription("Segment id.")
    public Long shmid;

    @JsonPropertyDescription("Segment key, as 0x%08x.")
    public String key;

    @JsonPropertyDescription("Segment size in bytes.")
    public Long bytes;

    @JsonPropertyDescription("UID of the pod it is attributed to.")
    public String podUid;

    @JsonPropertyDescription("Group it is attributed to, namespace/name.")
    public String group;

    @JsonPropertyDescription("Verdict of the agent, such as Orphaned or Kept.")
    public String verdict;

    @JsonPropertyDescription("Removed, WouldRemove (dry run), or Kept.")
    public String action;

    @JsonPropertyDescription("Why, in a sentence.")
    public String reason;

    @JsonPropertyDescription(
        "When a process last used the segment (the latest of its creation, attach and detach times,"
            + " RFC 3339): unused, hence orphaned, since then.")
    public String lastUsedTime;
  }

  // ---- POSIX shared-memory objects and the crash-loop guard (issue "shared-memory inventory")
  // ----

  @JsonPropertyDescription(
      "The largest orphaned POSIX shared-memory objects (files no process has open or mapped) and what the "
          + "agent did with them; at most 20.")
  private List<PosixOrphanReport> topOrphanObjects;

  public List<PosixOrphanReport> getTopOrphanObjects() {
    return topOrphanObjects;
  }

  public void setTopOrphanObjects(List<PosixOrphanReport> topOrphanObjects) {
    this.topOrphanObjects = topOrphanObjects;
  }

  @JsonPropertyDescription("POSIX shared-memory objects in all volumes and the host's /dev/shm.")
  private Long posixObjects;

  public Long getPosixObjects() {
    return posixObjects;
  }

  public void setPosixObjects(Long posixObjects) {
    this.posixObjects = posixObjects;
  }

  @JsonPropertyDescription("Allocated bytes of all POSIX shared-memory objects.")
  private Long posixObjectBytes;

  public Long getPosixObjectBytes() {
    return posixObjectBytes;
  }

  public void setPosixObjectBytes(Long posixObjectBytes) {
    this.posixObjectBytes = posixObjectBytes;
  }

  /** A full volume whose pod is restarting. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class CrashLoopGuardReport {
    @JsonPropertyDescription("True: the volume is at least 90% full.")
    public Boolean full;

    @JsonPropertyDescription(
        "True when a container of the pod is in CrashLoopBackOff now (under orphan policy Delete the agent then "
            + "removes the volume's unused files without waiting for the grace period); false when one only restarted within it.")
    public Boolean backOff;

    @JsonPropertyDescription(
        "The containers in back-off, or else those that restarted within the grace period.")
    public List<String> containers;

    @JsonPropertyDescription("The largest files of the volume (at most 5).")
    public List<GuardFileReport> files;
  }

  /** One file the crash-loop guard names. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class GuardFileReport {
    @JsonPropertyDescription("Its path relative to the volume.")
    public String name;

    @JsonPropertyDescription("Allocated bytes.")
    public Long bytes;

    @JsonPropertyDescription(
        "Whether a process on the node has it open or mapped (absent when not known).")
    public Boolean inUse;
  }

  /** One orphaned POSIX object. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class PosixOrphanReport {
    @JsonPropertyDescription("Path on the node.")
    public String path;

    @JsonPropertyDescription(
        "Kind of its volume: EmptyDir, DevShm, NodeShared, CsiInstance or HostShm.")
    public String volumeKind;

    @JsonPropertyDescription("Allocated bytes.")
    public Long bytes;

    @JsonPropertyDescription("UID of the pod its volume belongs to.")
    public String podUid;

    @JsonPropertyDescription("Group of that pod, namespace/name.")
    public String group;

    @JsonPropertyDescription("Verdict of the agent: KeptByPolicy, WithinGrace or Remove.")
    public String verdict;

    @JsonPropertyDescription("Removed, WouldRemove (dry run), Spared, Failed or Kept.")
    public String action;

    @JsonPropertyDescription("Why, in a sentence.")
    public String reason;
  }
}
