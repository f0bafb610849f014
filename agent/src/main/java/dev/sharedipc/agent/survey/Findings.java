package dev.sharedipc.agent.survey;

import dev.sharedipc.agent.kernel.ShmLimits;
import dev.sharedipc.agent.scan.MemoryVolume;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** The result of one survey of the node: namespaces, judged segments, memory volumes, limits, problems. */
public record Findings(
    Instant scannedAt,
    Duration duration,
    List<NamespaceFinding> namespaces,
    List<Finding> segments,
    List<MemoryVolume> volumes,
    ShmLimits limits,
    List<String> problems,
    int malformedLines,
    // POSIX shared-memory objects (issue "shared-memory inventory", items 1-3)
    PosixFindings posix) {

  /** Findings without POSIX objects. */
  public Findings(Instant scannedAt, Duration duration, List<NamespaceFinding> namespaces, List<Finding> segments,
      List<MemoryVolume> volumes, ShmLimits limits, List<String> problems, int malformedLines) {
    this(scannedAt, duration, namespaces, segments, volumes, limits, problems, malformedLines, PosixFindings.NONE);
  }
}
