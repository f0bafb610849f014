package dev.sharedipc.agent.survey;

import dev.sharedipc.agent.kernel.ShmLimits;
import dev.sharedipc.agent.scan.MemoryVolume;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The result of one survey of the node: namespaces, judged segments, memory volumes, limits, problems,
 * and the IPC objects that are only inventoried (semaphore sets, message queues, POSIX message queues).
 */
public record Findings(
    Instant scannedAt,
    Duration duration,
    List<NamespaceFinding> namespaces,
    List<Finding> segments,
    List<MemoryVolume> volumes,
    ShmLimits limits,
    List<String> problems,
    int malformedLines,
    // --- inventoried only: System V semaphore sets and message queues, POSIX message queues ---
    IpcObjects ipcObjects) {

  /** Findings without inventoried-only objects. */
  public Findings(Instant scannedAt, Duration duration, List<NamespaceFinding> namespaces, List<Finding> segments,
      List<MemoryVolume> volumes, ShmLimits limits, List<String> problems, int malformedLines) {
    this(scannedAt, duration, namespaces, segments, volumes, limits, problems, malformedLines, IpcObjects.NONE);
  }
}
