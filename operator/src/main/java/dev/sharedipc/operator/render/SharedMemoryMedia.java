package dev.sharedipc.operator.render;

import dev.sharedipc.api.CsiVolume;
import dev.sharedipc.api.v1alpha1.SharedMemoryMedium;
import dev.sharedipc.api.v1alpha1.SharedMemorySpec;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Volume;
import java.util.Collection;
import java.util.Comparator;
import java.util.Optional;

/**
 * Which medium a SameNode instance's shared memory uses, and why, as a pure function of the spec,
 * of whether the CSI driver is installed (a CSIDriver object {@code shm.sharedipc.dev} exists) and
 * of the medium the group's pods use now: the spec's {@code medium} when set; else the medium of
 * the group's pods while it has any; else CSI where the driver is installed and HostPath where it
 * is not.
 *
 * <p>Why the pods' medium is kept when the spec names none: a CSIDriver that appears or disappears
 * changes the default, and replacing members one by one with the other medium would split a running
 * instance across two memories (half its members on the node's /dev/shm directory, half on the
 * driver's tmpfs). The message tells the user how to switch; an explicit {@code medium} in the spec
 * then replaces each instance whole ({@code samenode.SameNodeRollout}). The message goes into the
 * MemoryAccounted condition so that users see the choice.
 */
public final class SharedMemoryMedia {
  private SharedMemoryMedia() {}

  /** The medium and a sentence saying why. */
  public record Choice(SharedMemoryMedium medium, String message) {}

  /** The choice for a group with no pods yet. */
  public static Choice choose(SharedMemorySpec spec, boolean driverInstalled) {
    return choose(spec, driverInstalled, null);
  }

  /**
   * @param inUse the medium of the group's pods ({@link #inUse}), null when it has none
   */
  public static Choice choose(
      SharedMemorySpec spec, boolean driverInstalled, SharedMemoryMedium inUse) {
    SharedMemoryMedium asked = spec.getMedium();
    if (asked == SharedMemoryMedium.CSI) {
      return new Choice(
          asked,
          "Shared memory: a tmpfs per instance from CSI driver "
              + CsiVolume.DRIVER
              + " (spec.sharedMemory.medium: CSI)"
              + (driverInstalled
                  ? "."
                  : "; no CSIDriver "
                      + CsiVolume.DRIVER
                      + " exists, so members wait in ContainerCreating until the driver is installed (deploy/ or the Helm chart).")
              + replacing(asked, inUse));
    }
    if (asked == SharedMemoryMedium.HostPath) {
      return new Choice(
          asked,
          "Shared memory: a hostPath directory of the node's /dev/shm (spec.sharedMemory.medium: HostPath)."
              + replacing(asked, inUse));
    }
    if (inUse == SharedMemoryMedium.HostPath && driverInstalled) {
      return new Choice(
          inUse,
          "Shared memory: a hostPath directory of the node's /dev/shm (kept: the group's pods use it). "
              + "CSIDriver "
              + CsiVolume.DRIVER
              + " now exists, but moving members to it one by one would split an instance "
              + "across two memories: set spec.sharedMemory.medium: CSI to replace the instances whole, one at a time, "
              + "with a tmpfs of exactly size each.");
    }
    if (inUse == SharedMemoryMedium.CSI && !driverInstalled) {
      return new Choice(
          inUse,
          "Shared memory: a tmpfs per instance from CSI driver "
              + CsiVolume.DRIVER
              + " (kept: the group's pods use it). No CSIDriver "
              + CsiVolume.DRIVER
              + " exists any more, so a member "
              + "created now waits in ContainerCreating until the driver is back; set spec.sharedMemory.medium: HostPath "
              + "to replace the instances whole, one at a time, with hostPath directories.");
    }
    return driverInstalled
        ? new Choice(
            SharedMemoryMedium.CSI,
            "Shared memory: a tmpfs per instance from CSI driver "
                + CsiVolume.DRIVER
                + " (default: the CSIDriver object exists).")
        : new Choice(
            SharedMemoryMedium.HostPath,
            "Shared memory: a hostPath directory of the node's /dev/shm (default: no "
                + "CSIDriver "
                + CsiVolume.DRIVER
                + " exists; install the driver for a tmpfs of exactly size that Pod Security "
                + "restricted admits).");
  }

  private static String replacing(SharedMemoryMedium asked, SharedMemoryMedium inUse) {
    return inUse == null || inUse == asked
        ? ""
        : " The group's pods still use "
            + inUse
            + ": its instances are replaced whole, one at a time, so that no instance "
            + "is ever split across two memories.";
  }

  /**
   * The medium of a SameNode member pod's shared-memory volume; empty for a pod without one
   * (SamePod, foreign).
   */
  public static Optional<SharedMemoryMedium> of(Pod pod) {
    if (pod.getSpec() == null || pod.getSpec().getVolumes() == null) {
      return Optional.empty();
    }
    for (Volume v : pod.getSpec().getVolumes()) {
      if (GroupRenderer.SHARED_VOLUME.equals(v.getName())) {
        if (v.getCsi() != null && CsiVolume.DRIVER.equals(v.getCsi().getDriver())) {
          return Optional.of(SharedMemoryMedium.CSI);
        }
        if (v.getHostPath() != null) {
          return Optional.of(SharedMemoryMedium.HostPath);
        }
      }
    }
    return Optional.empty();
  }

  /**
   * The medium the group's pods use now: that of its oldest pod (during a switch the instances not
   * replaced yet are the older ones), null when no pod has a shared-memory volume.
   */
  public static SharedMemoryMedium inUse(Collection<Pod> pods) {
    return pods.stream()
        .filter(p -> of(p).isPresent())
        .min(
            Comparator.comparing(
                    (Pod p) ->
                        p.getMetadata().getCreationTimestamp() == null
                            ? ""
                            : p.getMetadata().getCreationTimestamp())
                .thenComparing(p -> p.getMetadata().getName()))
        .flatMap(SharedMemoryMedia::of)
        .orElse(null);
  }
}
