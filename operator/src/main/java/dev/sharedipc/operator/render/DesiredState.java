package dev.sharedipc.operator.render;

import dev.sharedipc.operator.Verdict;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;

/**
 * Everything the operator wants to exist for one group, computed without a cluster.
 *
 * @param pods one pod per instance, in instance order
 * @param templateHash hash of the pod template every pod must carry; a pod with another is outdated
 * @param memory the verdict behind the MemoryAccounted condition
 */
public record DesiredState(List<Pod> pods, String templateHash, Verdict memory) {}
