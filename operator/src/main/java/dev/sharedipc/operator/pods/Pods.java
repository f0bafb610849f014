package dev.sharedipc.operator.pods;

import dev.sharedipc.api.Labels;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import java.util.Optional;

/** Small reads of a pod's state that several collaborators need. */
public final class Pods {
  private Pods() {}

  public static Optional<PodCondition> condition(Pod pod, String type) {
    if (pod.getStatus() == null || pod.getStatus().getConditions() == null) {
      return Optional.empty();
    }
    return pod.getStatus().getConditions().stream()
        .filter(c -> type.equals(c.getType()))
        .findFirst();
  }

  public static boolean isReady(Pod pod) {
    return condition(pod, "Ready").map(c -> "True".equals(c.getStatus())).orElse(false);
  }

  public static boolean isTerminating(Pod pod) {
    return pod.getMetadata().getDeletionTimestamp() != null;
  }

  public static String templateHash(Pod pod) {
    return pod.getMetadata().getAnnotations() == null
        ? null
        : pod.getMetadata().getAnnotations().get(Labels.TEMPLATE_HASH_ANNOTATION);
  }
}
