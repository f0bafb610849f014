package dev.sharedipc.operator.render;

import dev.sharedipc.api.CsiVolume;
import dev.sharedipc.api.v1alpha1.SharedMemoryMedium;
import dev.sharedipc.api.v1alpha1.SharedMemorySpec;

/**
 * Which medium a SameNode instance's shared memory uses, and why, as a pure function of the spec and
 * of whether the CSI driver is installed (a CSIDriver object {@code shm.sharedipc.dev} exists): the
 * spec's {@code medium} when set, else CSI where the driver is installed and HostPath where it is
 * not. The message goes into the MemoryAccounted condition so that users see the choice.
 */
public final class SharedMemoryMedia {
  private SharedMemoryMedia() {}

  /** The medium and a sentence saying why. */
  public record Choice(SharedMemoryMedium medium, String message) {}

  public static Choice choose(SharedMemorySpec spec, boolean driverInstalled) {
    SharedMemoryMedium asked = spec.getMedium();
    if (asked == SharedMemoryMedium.CSI) {
      return new Choice(asked, "Shared memory: a tmpfs per instance from CSI driver " + CsiVolume.DRIVER
          + " (spec.sharedMemory.medium: CSI)" + (driverInstalled ? "." : "; no CSIDriver " + CsiVolume.DRIVER
          + " exists, so members wait in ContainerCreating until the driver is installed (deploy/ or the Helm chart)."));
    }
    if (asked == SharedMemoryMedium.HostPath) {
      return new Choice(asked, "Shared memory: a hostPath directory of the node's /dev/shm (spec.sharedMemory.medium: HostPath).");
    }
    return driverInstalled
        ? new Choice(SharedMemoryMedium.CSI, "Shared memory: a tmpfs per instance from CSI driver " + CsiVolume.DRIVER
            + " (default: the CSIDriver object exists).")
        : new Choice(SharedMemoryMedium.HostPath, "Shared memory: a hostPath directory of the node's /dev/shm (default: no "
            + "CSIDriver " + CsiVolume.DRIVER + " exists; install the driver for a tmpfs of exactly size that Pod Security "
            + "restricted admits).");
  }
}
