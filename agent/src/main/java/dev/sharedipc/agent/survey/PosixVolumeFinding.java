package dev.sharedipc.agent.survey;

import dev.sharedipc.agent.attribution.PodInfo;
import dev.sharedipc.agent.scan.MemoryVolume;
import java.util.List;

/**
 * The POSIX side of one memory volume: its pod, how many objects it holds, and the crash-loop
 * guard.
 *
 * @param pod its pod (null for shared directories and the host's /dev/shm)
 * @param guard the crash-loop guard's finding, or null when the volume is not full or its pod not
 *     restarting
 */
public record PosixVolumeFinding(
    MemoryVolume volume,
    PodInfo pod,
    int podsOfVolume,
    long objects,
    long objectBytes,
    long orphanObjects,
    CrashLoopGuard guard) {

  /** At or above this share of its size a volume is full for the guard. */
  public static final int FULL_PERCENT = 90;

  /**
   * A full volume whose pod is restarting.
   *
   * @param backOff containers of the pod waiting in CrashLoopBackOff now (the only case that
   *     removes without grace, under Delete)
   * @param restarted containers that restarted within the grace period
   * @param files the largest files of the volume (at most {@link #FILES}), with whether a process
   *     uses them
   */
  public record CrashLoopGuard(
      boolean full, List<String> backOff, List<String> restarted, List<GuardFile> files) {
    public static final int FILES = 5;

    public boolean inBackOff() {
      return !backOff.isEmpty();
    }
  }

  /**
   * One file named by the guard: its name in the volume, allocated bytes, and whether it is open or
   * mapped (null: unknown).
   */
  public record GuardFile(String name, long bytes, Boolean inUse) {}

  /** Whether the volume is at or above {@link #FULL_PERCENT} of its size. */
  public static boolean full(MemoryVolume v) {
    // used >= ceil(size * FULL_PERCENT / 100), computed without the overflow of size * 100 near the
    // top of a long
    long size = v.sizeBytes();
    int free = 100 - FULL_PERCENT;
    long allowedFree = (size / 100) * free + (size % 100) * free / 100;
    return size > 0 && v.usedBytes() >= size - allowedFree;
  }
}
