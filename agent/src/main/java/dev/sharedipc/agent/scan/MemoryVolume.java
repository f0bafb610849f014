package dev.sharedipc.agent.scan;

/**
 * A memory-backed volume on the node: a memory emptyDir, a pod's {@code /dev/shm}, or a SameNode
 * shared directory, with its pod when the path names one.
 */
public record MemoryVolume(Kind kind, String name, String path, String podUid, long sizeBytes, long usedBytes) {
  public enum Kind { EmptyDir, DevShm, NodeShared }
}
