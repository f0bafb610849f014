package dev.sharedipc.operator.placement;

import io.fabric8.kubernetes.api.model.PodSpec;
import java.util.List;

/**
 * One SameNode instance to place: the rendered pod spec of each of its members (requests,
 * nodeSelector, affinity, tolerations as they will be created), plus the shared memory that
 * lives on the node outside every pod's request (a node tmpfs directory, or SysV segments in the
 * host IPC namespace). Shared memory already charged to a member through {@code accountTo} is in
 * that member's request and must not be counted again here.
 */
public record InstanceDemand(int index, List<PodSpec> members, long extraMemoryBytes) {
  public InstanceDemand {
    members = List.copyOf(members);
  }
}
