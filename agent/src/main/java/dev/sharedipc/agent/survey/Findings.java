package dev.sharedipc.agent.survey;

import dev.sharedipc.agent.kernel.ShmLimits;
import dev.sharedipc.agent.scan.MemoryVolume;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The result of one survey of the node: namespaces, judged segments, memory volumes, limits,
 * problems, the IPC objects that are only inventoried (semaphore sets, message queues, POSIX
 * message queues), and the POSIX shared-memory objects of memory volumes.
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
    // inventoried only: System V semaphore sets and message queues, POSIX message queues
    IpcObjects ipcObjects,
    // POSIX shared-memory objects: files in memory volumes, judged and reaped like segments
    PosixFindings posix) {

  /** Findings with segments and volumes only. */
  public Findings(
      Instant scannedAt,
      Duration duration,
      List<NamespaceFinding> namespaces,
      List<Finding> segments,
      List<MemoryVolume> volumes,
      ShmLimits limits,
      List<String> problems,
      int malformedLines) {
    this(
        scannedAt,
        duration,
        namespaces,
        segments,
        volumes,
        limits,
        problems,
        malformedLines,
        IpcObjects.NONE,
        PosixFindings.NONE);
  }

  /** Findings with the inventoried-only objects, without POSIX objects. */
  public Findings(
      Instant scannedAt,
      Duration duration,
      List<NamespaceFinding> namespaces,
      List<Finding> segments,
      List<MemoryVolume> volumes,
      ShmLimits limits,
      List<String> problems,
      int malformedLines,
      IpcObjects ipcObjects) {
    this(
        scannedAt,
        duration,
        namespaces,
        segments,
        volumes,
        limits,
        problems,
        malformedLines,
        ipcObjects,
        PosixFindings.NONE);
  }

  /** Findings with POSIX objects, without the inventoried-only objects. */
  public Findings(
      Instant scannedAt,
      Duration duration,
      List<NamespaceFinding> namespaces,
      List<Finding> segments,
      List<MemoryVolume> volumes,
      ShmLimits limits,
      List<String> problems,
      int malformedLines,
      PosixFindings posix) {
    this(
        scannedAt,
        duration,
        namespaces,
        segments,
        volumes,
        limits,
        problems,
        malformedLines,
        IpcObjects.NONE,
        posix);
  }
}
