package dev.sharedipc.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/** How many groups the policy governs and how many break it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SharedIpcPolicyStatus {

  @JsonPropertyDescription("The metadata.generation this status describes.")
  private Long observedGeneration;

  @JsonPropertyDescription("Groups in the namespaces this policy selects.")
  private Integer matchedGroups;

  @JsonPropertyDescription("Of those, groups that break it.")
  private Integer violatingGroups;

  @JsonPropertyDescription(
      "GroupsCompliant: True when no governed group breaks the policy. Valid: False (reason InvalidNamespaceSelector) when the operator cannot evaluate the namespaceSelector; the policy then governs every namespace with its limits and grants nothing until it is fixed.")
  private List<Condition> conditions = new ArrayList<>();

  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }

  public Integer getMatchedGroups() {
    return matchedGroups;
  }

  public void setMatchedGroups(Integer matchedGroups) {
    this.matchedGroups = matchedGroups;
  }

  public Integer getViolatingGroups() {
    return violatingGroups;
  }

  public void setViolatingGroups(Integer violatingGroups) {
    this.violatingGroups = violatingGroups;
  }

  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof SharedIpcPolicyStatus)) {
      return false;
    }
    SharedIpcPolicyStatus that = (SharedIpcPolicyStatus) o;
    return java.util.Objects.equals(observedGeneration, that.observedGeneration)
        && java.util.Objects.equals(matchedGroups, that.matchedGroups)
        && java.util.Objects.equals(violatingGroups, that.violatingGroups)
        && java.util.Objects.equals(conditions, that.conditions);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(observedGeneration, matchedGroups, violatingGroups, conditions);
  }
}
