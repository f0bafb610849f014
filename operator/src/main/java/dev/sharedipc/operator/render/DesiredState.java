package dev.sharedipc.operator.render;

import dev.sharedipc.operator.assessment.Assessment;
import dev.sharedipc.operator.pods.Pods;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;
import java.util.Optional;

/**
 * Everything the operator wants to exist for one group, computed without a cluster.
 *
 * @param pods the pods that should exist now (SameNode: only those of placed instances)
 * @param memory the verdict behind the MemoryAccounted condition
 */
public record DesiredState(List<Pod> pods, Assessment memory) {

  public Optional<Pod> pod(String name) {
    return pods.stream().filter(p -> p.getMetadata().getName().equals(name)).findFirst();
  }

  /** Whether a running pod carries an older template than the desired pod of the same name. */
  public boolean isOutdated(Pod running) {
    return pod(running.getMetadata().getName())
        .map(
            wanted ->
                !java.util.Objects.equals(Pods.templateHash(wanted), Pods.templateHash(running)))
        .orElse(false);
  }
}
