package dev.sharedipc.operator.informers;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.SecondaryToPrimaryMapper;
import java.util.stream.Collectors;

/**
 * The secondary-to-primary mapping of a secondary resource that every primary may depend on (a
 * policy for the groups, the groups and namespaces for a policy): a change of one wakes every
 * primary in the controller's cache, each of which then judges for itself whether it matters.
 */
public final class EveryPrimary {
  private EveryPrimary() {}

  public static <S extends HasMetadata, P extends HasMetadata> SecondaryToPrimaryMapper<S> of(
      EventSourceContext<P> context) {
    return secondary ->
        context.getPrimaryCache().list().map(ResourceID::fromResource).collect(Collectors.toSet());
  }
}
