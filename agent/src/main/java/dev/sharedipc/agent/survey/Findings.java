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
    int malformedLines) {}
