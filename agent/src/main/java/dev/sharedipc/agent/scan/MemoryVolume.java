package dev.sharedipc.agent.scan;

/**
 * A memory-backed volume on the node: a memory emptyDir, a pod's {@code /dev/shm}, a SameNode
 * shared directory or a CSI instance tmpfs, with its pod when the path names one. A SameNode
 * directory or CSI instance names no pod but an instance: {@code podNamespace}, {@code group},
 * {@code groupUid} and {@code instance} come from its name ({@link SharedDirName}) and are null
 * when it does not parse ({@code groupUid} also for a name of the form before the uid was part of
 * it).
 */
public record MemoryVolume(
    Kind kind,
    String name,
    String path,
    String podUid,
    long sizeBytes,
    long usedBytes,
    String podNamespace,
    String group,
    String groupUid,
    Integer instance) {
  public enum Kind {
    EmptyDir,
    DevShm,
    NodeShared,
    /**
     * A SameNode instance's tmpfs from the CSI driver, under its state dir: it belongs to the
     * instance, not to one pod (every member binds it), so nothing in it is ever removed by the
     * agent.
     */
    CsiInstance,
    /** The host's own /dev/shm: its objects belong to no pod and are never removed. */
    HostShm
  }

  /** A volume with no attribution beyond its pod UID. */
  public MemoryVolume(
      Kind kind, String name, String path, String podUid, long sizeBytes, long usedBytes) {
    this(kind, name, path, podUid, sizeBytes, usedBytes, null, null, null, null);
  }
}
