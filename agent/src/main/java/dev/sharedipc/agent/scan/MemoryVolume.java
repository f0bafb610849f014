package dev.sharedipc.agent.scan;

/**
 * A memory-backed volume on the node: a memory emptyDir, a pod's {@code /dev/shm}, or a SameNode
 * shared directory, with its pod when the path names one. A SameNode directory names no pod but an
 * instance: {@code podNamespace}, {@code group} and {@code instance} come from its name
 * ({@link SharedDirName}) and are null when it does not parse.
 */
public record MemoryVolume(Kind kind, String name, String path, String podUid, long sizeBytes, long usedBytes,
    String podNamespace, String group, Integer instance) {
  public enum Kind {
    EmptyDir, DevShm, NodeShared,
    /** The host's own /dev/shm: its objects belong to no pod and are never removed. */
    HostShm
  }

  /** A volume with no attribution beyond its pod UID. */
  public MemoryVolume(Kind kind, String name, String path, String podUid, long sizeBytes, long usedBytes) {
    this(kind, name, path, podUid, sizeBytes, usedBytes, null, null, null);
  }
}
