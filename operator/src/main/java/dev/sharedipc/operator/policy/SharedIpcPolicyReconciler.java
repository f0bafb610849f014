package dev.sharedipc.operator.policy;

import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicy;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicyStatus;
import dev.sharedipc.operator.assessment.Assessment;
import dev.sharedipc.operator.informers.EveryPrimary;
import dev.sharedipc.operator.informers.TrimmedStore;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.time.Clock;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Keeps each SharedIpcPolicy's status true: how many groups it governs and how many break it, so
 * that {@code kubectl get sipcpolicy} shows an admin the reach of a policy before tightening it.
 * The groups themselves are judged by the group reconciler; this one only counts.
 */
@ControllerConfiguration(name = SharedIpcPolicyReconciler.NAME)
public class SharedIpcPolicyReconciler implements Reconciler<SharedIpcPolicy> {
  public static final String NAME = "sharedipcpolicy";

  private final PolicyEvaluator evaluator;
  private final Clock clock;

  public SharedIpcPolicyReconciler(PolicyEvaluator evaluator, Clock clock) {
    this.evaluator = evaluator;
    this.clock = clock;
  }

  @Override
  public List<EventSource<?, SharedIpcPolicy>> prepareEventSources(
      EventSourceContext<SharedIpcPolicy> context) {
    // Any group or namespace change may change every policy's counts: policies are few.
    InformerEventSource<SharedIpcGroup, SharedIpcPolicy> groups =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(SharedIpcGroup.class, SharedIpcPolicy.class)
                .withWatchAllNamespaces()
                // Compliance is judged on the spec: the groups' status stays out of this second
                // cache.
                .withItemStore(TrimmedStore.specOnly())
                .withSecondaryToPrimaryMapper(EveryPrimary.of(context))
                .build(),
            context);
    InformerEventSource<Namespace, SharedIpcPolicy> namespaces =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Namespace.class, SharedIpcPolicy.class)
                .withItemStore(TrimmedStore.withoutManagedFields())
                .withSecondaryToPrimaryMapper(EveryPrimary.of(context))
                .withOnUpdateFilter(
                    (now, before) ->
                        !Objects.equals(
                            now.getMetadata().getLabels(), before.getMetadata().getLabels()))
                .build(),
            context);
    return List.of(groups, namespaces);
  }

  @Override
  @SuppressWarnings("unchecked")
  public UpdateControl<SharedIpcPolicy> reconcile(
      SharedIpcPolicy policy, Context<SharedIpcPolicy> context) {
    InformerEventSource<Namespace, SharedIpcPolicy> namespaces =
        (InformerEventSource<Namespace, SharedIpcPolicy>)
            context.eventSourceRetriever().getEventSourceFor(Namespace.class);
    InformerEventSource<SharedIpcGroup, SharedIpcPolicy> groups =
        (InformerEventSource<SharedIpcGroup, SharedIpcPolicy>)
            context.eventSourceRetriever().getEventSourceFor(SharedIpcGroup.class);
    int matched = 0;
    int violating = 0;
    for (SharedIpcGroup group : groups.list().toList()) {
      Map<String, String> labels =
          namespaces
              .get(new ResourceID(group.getMetadata().getNamespace()))
              .map(ns -> ns.getMetadata().getLabels())
              .orElse(Map.of());
      if (policy.getSpec() == null
          || !PolicyEvaluator.selects(policy.getSpec().getNamespaceSelector(), labels)) {
        continue;
      }
      matched++;
      Assessment verdict = evaluator.evaluate(group, labels, List.of(policy));
      if (Boolean.FALSE.equals(verdict.holds())) {
        violating++;
      }
    }
    SharedIpcPolicyStatus status = new SharedIpcPolicyStatus();
    status.setObservedGeneration(policy.getMetadata().getGeneration());
    status.setMatchedGroups(matched);
    status.setViolatingGroups(violating);
    status.setConditions(List.of(compliance(policy, violating, matched)));
    if (Objects.equals(policy.getStatus(), status)) {
      return UpdateControl.noUpdate();
    }
    SharedIpcPolicy patch = new SharedIpcPolicy();
    patch.setMetadata(new ObjectMeta());
    patch.getMetadata().setName(policy.getMetadata().getName());
    patch.setStatus(status);
    return UpdateControl.patchStatus(patch);
  }

  /** One condition, GroupsCompliant, with its transition time kept while its status stays. */
  private Condition compliance(SharedIpcPolicy policy, int violating, int matched) {
    String value = violating == 0 ? "True" : "False";
    String since =
        policy.getStatus() == null || policy.getStatus().getConditions() == null
            ? null
            : policy.getStatus().getConditions().stream()
                .filter(c -> "GroupsCompliant".equals(c.getType()) && value.equals(c.getStatus()))
                .map(Condition::getLastTransitionTime)
                .findFirst()
                .orElse(null);
    return new ConditionBuilder()
        .withType("GroupsCompliant")
        .withStatus(value)
        .withReason(violating == 0 ? "AllGroupsComply" : "GroupsViolate")
        .withMessage(violating + " of " + matched + " governed groups break this policy")
        .withObservedGeneration(policy.getMetadata().getGeneration())
        .withLastTransitionTime(
            since != null ? since : clock.instant().truncatedTo(ChronoUnit.SECONDS).toString())
        .build();
  }
}
