package dev.sharedipc.api.v1alpha1;

/** Where a SameNode instance's shared memory lives on its node. */
public enum SharedMemoryMedium {
  /**
   * A tmpfs of exactly {@code size} per instance, made and freed by the CSI driver {@code
   * shm.sharedipc.dev} (an inline {@code csi} volume, admitted under Pod Security restricted).
   */
  CSI,
  /**
   * A per-instance directory of the node's /dev/shm through a hostPath volume (refused by Pod
   * Security baseline).
   */
  HostPath
}
