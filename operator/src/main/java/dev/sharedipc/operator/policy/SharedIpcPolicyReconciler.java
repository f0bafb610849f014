package dev.sharedipc.operator.policy;

import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicy;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicyStatus;
import dev.sharedipc.operator.assessment.Assessment;
import dev.sharedipc.operator.informers.EveryPrimary;
import dev.sharedipc.operator.informers.TrimmedStore;
import dev.sharedipc.operator.sync.GroupEvents;
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
 * that {@code kubectl get sipcpolicy} shows an admin the reach of a policy before tightening it,
 * and whether the operator can use it at all (condition Valid, with a Warning Event when it turns
 * False: an unusable namespaceSelector, which fails closed, see {@link PolicySelector}). The groups
 * themselves are judged by the group reconciler; this one only counts.
 */
@ControllerConfiguration(name = SharedIpcPolicyReconciler.NAME)
public class SharedIpcPolicyReconciler implements Reconciler<SharedIpcPolicy> {
  public static final String NAME = "sharedipcpolicy";

  static final String VALID = "Valid";
  static final String INVALID_NAMESPACE_SELECTOR = "InvalidNamespaceSelector";

  private final PolicyEvaluator evaluator;
  private final GroupEvents events;
  private final Clock clock;

  /** Per policy UID: the message of the last InvalidNamespaceSelector Event, so it is sent once. */
  private final Map<String, String> announced = new java.util.concurrent.ConcurrentHashMap<>();

  public SharedIpcPolicyReconciler(PolicyEvaluator evaluator, GroupEvents events, Clock clock) {
    this.evaluator = evaluator;
    this.events = events;
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
          || !PolicySelector.selects(policy.getSpec().getNamespaceSelector(), labels)) {
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
    Condition validity = validity(policy);
    status.setConditions(List.of(compliance(policy, violating, matched), validity));
    announce(policy, validity);
    if (Objects.equals(policy.getStatus(), status)) {
      return UpdateControl.noUpdate();
    }
    SharedIpcPolicy patch = new SharedIpcPolicy();
    patch.setMetadata(new ObjectMeta());
    patch.getMetadata().setName(policy.getMetadata().getName());
    patch.setStatus(status);
    return UpdateControl.patchStatus(patch);
  }

  /** GroupsCompliant: whether a governed group breaks the policy. */
  private Condition compliance(SharedIpcPolicy policy, int violating, int matched) {
    return condition(
        policy,
        "GroupsCompliant",
        violating == 0,
        violating == 0 ? "AllGroupsComply" : "GroupsViolate",
        violating + " of " + matched + " governed groups break this policy");
  }

  /** Valid: whether the operator can evaluate the policy as written. */
  private Condition validity(SharedIpcPolicy policy) {
    return PolicySelector.problem(
            policy.getSpec() == null ? null : policy.getSpec().getNamespaceSelector())
        .map(
            problem ->
                condition(
                    policy,
                    VALID,
                    false,
                    INVALID_NAMESPACE_SELECTOR,
                    "namespaceSelector cannot be evaluated: "
                        + problem
                        + ". Until it is fixed the policy governs every namespace with its limits"
                        + " and grants nothing (allowHostIPC counts as false, a defaultOrphanPolicy"
                        + " of Delete as Report); fix the expression (operator In, NotIn, Exists or"
                        + " DoesNotExist; values for In and NotIn only)"))
        .orElseGet(
            () ->
                condition(
                    policy,
                    VALID,
                    true,
                    VALID,
                    "the operator can evaluate every rule of the policy"));
  }

  /** A Warning Event when the policy turns unusable (or its problem changes), once. */
  private void announce(SharedIpcPolicy policy, Condition validity) {
    String uid = policy.getMetadata().getUid();
    if ("True".equals(validity.getStatus())) {
      announced.remove(uid);
      return;
    }
    if (!validity.getMessage().equals(announced.put(uid, validity.getMessage()))) {
      events.warning(policy, validity.getReason(), VALID + "=False: " + validity.getMessage());
    }
  }

  /** A condition with its transition time kept while its status stays. */
  private Condition condition(
      SharedIpcPolicy policy, String type, boolean holds, String reason, String message) {
    String value = holds ? "True" : "False";
    String since =
        policy.getStatus() == null || policy.getStatus().getConditions() == null
            ? null
            : policy.getStatus().getConditions().stream()
                .filter(c -> type.equals(c.getType()) && value.equals(c.getStatus()))
                .map(Condition::getLastTransitionTime)
                .findFirst()
                .orElse(null);
    return new ConditionBuilder()
        .withType(type)
        .withStatus(value)
        .withReason(reason)
        .withMessage(message)
        .withObservedGeneration(policy.getMetadata().getGeneration())
        .withLastTransitionTime(
            since != null ? since : clock.instant().truncatedTo(ChronoUnit.SECONDS).toString())
        .build();
  }
}
