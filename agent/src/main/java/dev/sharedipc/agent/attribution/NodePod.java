package dev.sharedipc.agent.attribution;

import dev.sharedipc.agent.scan.SharedDirName;
import dev.sharedipc.api.Labels;
import java.util.Map;

/**
 * A pod bound to this node as the pod informer last saw it: just what deciding about a SameNode
 * shared directory needs. Labels may be empty, never null.
 */
public record NodePod(String namespace, String name, Map<String, String> labels, String phase) {
  public NodePod {
    labels = labels == null ? Map.of() : Map.copyOf(labels);
  }

  /** Succeeded and Failed pods have no running containers and will not start any again. */
  public boolean finished() {
    return "Succeeded".equals(phase) || "Failed".equals(phase);
  }

  /** A pod of that instance that is not finished (Pending, Running, Unknown, or being deleted) still uses it. */
  public boolean usesInstance(SharedDirName instance) {
    return !finished() && instance.namespace().equals(namespace) && instance.group().equals(labels.get(Labels.GROUP))
        && Integer.toString(instance.instance()).equals(labels.get(Labels.INSTANCE));
  }
}
