package dev.sharedipc.operator.placement;

import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;

/**
 * One SameNode instance to place: the rendered member pods (namespace, labels, and the spec with
 * requests, host ports, nodeSelector, affinities and tolerations as they will be created), plus the
 * shared memory that lives on the node outside every pod's request (a node tmpfs directory, or SysV
 * segments in the host IPC namespace). Shared memory already charged to a member through {@code
 * accountTo} is in that member's request and must not be counted again here.
 */
public record InstanceDemand(int index, List<Pod> members, long extraMemoryBytes) {
  public InstanceDemand {
    members = List.copyOf(members);
  }
}
