package dev.sharedipc.operator.sync;

import io.fabric8.kubernetes.api.model.HasMetadata;

/**
 * Where a sync tells users what it did: Kubernetes Events on the group (and where the policy
 * controller says a SharedIpcPolicy is unusable: Events on the policy).
 */
public interface GroupEvents {
  void normal(HasMetadata object, String reason, String message);

  void warning(HasMetadata object, String reason, String message);
}
