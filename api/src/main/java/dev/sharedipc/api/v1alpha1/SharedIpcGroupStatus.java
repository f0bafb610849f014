package dev.sharedipc.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.model.annotation.LabelSelector;
import io.fabric8.kubernetes.model.annotation.StatusReplicas;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** What the operator observed: per-instance placement and readiness, usage, and conditions. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SharedIpcGroupStatus {

  @JsonPropertyDescription("The metadata.generation this status describes.")
  private Long observedGeneration;

  @JsonPropertyDescription("Pending, Placing, Running, Degraded or Failed.")
  private String phase;

  @JsonPropertyDescription("Instances whose every member is ready.")
  private Integer readyInstances;

  @JsonPropertyDescription(
      "Instances that exist (have at least one pod), whatever their state: the /scale subresource's status.replicas, as kubectl scale and autoscalers read it.")
  @StatusReplicas
  private Integer replicas;

  @JsonPropertyDescription(
      "Label selector of the group's pods, as a string (the /scale subresource's selector, for autoscalers).")
  @LabelSelector
  private String selector;

  @JsonPropertyDescription("One entry per instance.")
  private List<InstanceStatus> instances = new ArrayList<>();

  @JsonPropertyDescription("Totals over all instances, from the node agents' reports.")
  private UsageStatus usage;

  @JsonPropertyDescription(
      "The orphan policy the node agents obey for this group (group setting, policy default, policy cap). Absent means Report.")
  private EffectiveOrphanPolicy effectiveOrphanPolicy;

  @JsonPropertyDescription(
      "The last spec admitted under SharedIpcPolicy: while the group breaks a policy, lost pods of its running instances are re-created from it, and new instances and spec changes wait.")
  private AdmittedSpec admitted;

  @JsonPropertyDescription(
      "Ready, Placed, MemoryAccounted, WithinQuota and PolicyCompliant, always all present.")
  private List<Condition> conditions = new ArrayList<>();

  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }

  public String getPhase() {
    return phase;
  }

  public void setPhase(String phase) {
    this.phase = phase;
  }

  public Integer getReadyInstances() {
    return readyInstances;
  }

  public void setReadyInstances(Integer readyInstances) {
    this.readyInstances = readyInstances;
  }

  public Integer getReplicas() {
    return replicas;
  }

  public void setReplicas(Integer replicas) {
    this.replicas = replicas;
  }

  public String getSelector() {
    return selector;
  }

  public void setSelector(String selector) {
    this.selector = selector;
  }

  public List<InstanceStatus> getInstances() {
    return instances;
  }

  public void setInstances(List<InstanceStatus> instances) {
    this.instances = instances;
  }

  public UsageStatus getUsage() {
    return usage;
  }

  public void setUsage(UsageStatus usage) {
    this.usage = usage;
  }

  public EffectiveOrphanPolicy getEffectiveOrphanPolicy() {
    return effectiveOrphanPolicy;
  }

  public void setEffectiveOrphanPolicy(EffectiveOrphanPolicy effectiveOrphanPolicy) {
    this.effectiveOrphanPolicy = effectiveOrphanPolicy;
  }

  public AdmittedSpec getAdmitted() {
    return admitted;
  }

  public void setAdmitted(AdmittedSpec admitted) {
    this.admitted = admitted;
  }

  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof SharedIpcGroupStatus)) {
      return false;
    }
    SharedIpcGroupStatus that = (SharedIpcGroupStatus) o;
    return Objects.equals(observedGeneration, that.observedGeneration)
        && Objects.equals(phase, that.phase)
        && Objects.equals(readyInstances, that.readyInstances)
        && Objects.equals(replicas, that.replicas)
        && Objects.equals(selector, that.selector)
        && Objects.equals(instances, that.instances)
        && Objects.equals(usage, that.usage)
        && Objects.equals(effectiveOrphanPolicy, that.effectiveOrphanPolicy)
        && Objects.equals(admitted, that.admitted)
        && Objects.equals(conditions, that.conditions);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        observedGeneration,
        phase,
        readyInstances,
        replicas,
        selector,
        instances,
        usage,
        effectiveOrphanPolicy,
        admitted,
        conditions);
  }
}
