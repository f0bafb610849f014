package dev.sharedipc.operator.status;

import dev.sharedipc.operator.assessment.Assessment;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the group's conditions, one per {@link ConditionType}, keeping each condition's
 * lastTransitionTime from the previous status while its status does not change (Kubernetes API
 * conventions; Keycloak's status aggregator does the same).
 */
public final class ConditionSet {
  private final Map<ConditionType, Condition> conditions = new EnumMap<>(ConditionType.class);
  private final List<Condition> previous;
  private final long generation;
  private final Instant now;

  public ConditionSet(List<Condition> previous, long generation, Instant now) {
    this.previous = previous == null ? List.of() : previous;
    this.generation = generation;
    this.now = now.truncatedTo(ChronoUnit.SECONDS);
  }

  public ConditionSet set(ConditionType type, Boolean status, String reason, String message) {
    Condition condition = new Condition();
    condition.setType(type.name());
    condition.setStatus(status == null ? "Unknown" : status ? "True" : "False");
    condition.setReason(reason);
    condition.setMessage(message);
    condition.setObservedGeneration(generation);
    condition.setLastTransitionTime(
        previous.stream()
            .filter(
                p -> type.name().equals(p.getType()) && condition.getStatus().equals(p.getStatus()))
            .map(Condition::getLastTransitionTime)
            .findFirst()
            .orElse(now.toString()));
    conditions.put(type, condition);
    return this;
  }

  public ConditionSet set(ConditionType type, Assessment verdict) {
    return set(type, verdict.holds(), verdict.reason(), verdict.message());
  }

  public boolean isTrue(ConditionType type) {
    Condition c = conditions.get(type);
    return c != null && "True".equals(c.getStatus());
  }

  /** All conditions in declared order; a type nobody set is Unknown, so the set is always whole. */
  public List<Condition> toList() {
    for (ConditionType type : ConditionType.values()) {
      if (!conditions.containsKey(type)) {
        set(type, null, "NotEvaluated", "not evaluated yet");
      }
    }
    return new ArrayList<>(conditions.values());
  }
}
