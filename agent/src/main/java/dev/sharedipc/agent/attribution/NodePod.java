package dev.sharedipc.agent.attribution;

import dev.sharedipc.agent.scan.SharedDirName;
import dev.sharedipc.api.Labels;
import java.util.Map;

/**
 * A pod bound to this node as the pod informer last saw it: just what deciding about a SameNode
 * shared directory needs. Labels may be empty, never null; {@code groupUid} is the uid of the
 * SharedIpcGroup that controls it (its controller ownerReference), or null when not known.
 */
public record NodePod(String namespace, String name, Map<String, String> labels, String phase, String groupUid) {
  public NodePod {
    labels = labels == null ? Map.of() : Map.copyOf(labels);
  }

  /** A pod whose controlling group's uid is not known. */
  public NodePod(String namespace, String name, Map<String, String> labels, String phase) {
    this(namespace, name, labels, phase, null);
  }

  /** Succeeded and Failed pods have no running containers and will not start any again. */
  public boolean finished() {
    return "Succeeded".equals(phase) || "Failed".equals(phase);
  }

  /**
   * A pod of that instance that is not finished (Pending, Running, Unknown, or being deleted) still
   * uses it. When both the directory's name and the pod say which group (uid) they belong to, they
   * must agree: a group deleted and created again under the same name is another group. When either
   * does not say (a directory in the old name form, a pod whose owner is not known), the pod counts,
   * so that doubt keeps a directory rather than removes it.
   */
  public boolean usesInstance(SharedDirName instance) {
    return !finished() && instance.namespace().equals(namespace) && instance.group().equals(labels.get(Labels.GROUP))
        && Integer.toString(instance.instance()).equals(labels.get(Labels.INSTANCE))
        && (instance.groupUid() == null || groupUid == null || instance.groupUid().equals(groupUid));
  }
}
