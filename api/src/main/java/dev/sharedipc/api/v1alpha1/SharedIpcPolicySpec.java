package dev.sharedipc.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.ArrayList;
import java.util.List;

/** The rules a cluster admin sets for the groups in the namespaces the policy selects. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value =
        "!has(self.defaultOrphanPolicy) || !has(self.strongestOrphanPolicy) || self.defaultOrphanPolicy == self.strongestOrphanPolicy || self.strongestOrphanPolicy == 'Delete'",
    message = "defaultOrphanPolicy must not be stronger than strongestOrphanPolicy",
    reason = "FieldValueInvalid",
    fieldPath = ".defaultOrphanPolicy")
public class SharedIpcPolicySpec {

  @JsonPropertyDescription(
      "Namespaces whose groups this policy governs; empty selects every namespace. A selector the operator cannot evaluate (stored before the CRD checked it) governs every namespace with the policy's limits and none of its permissions, and the policy's Valid condition says why.")
  @SchemaFrom(type = NamespaceSelectorSchema.class)
  private LabelSelector namespaceSelector;

  @JsonPropertyDescription("Placements groups may use; empty allows both.")
  private List<Placement> allowedPlacements = new ArrayList<>();

  @JsonPropertyDescription(
      "Whether SameNode groups may run in the node's IPC namespace (hostIPC: true). Default false. A hostIPC group is refused unless a policy selecting its namespace allows it.")
  @Default("false")
  private Boolean allowHostIPC = false;

  @JsonPropertyDescription("Largest sharedMemory.size one instance may ask for.")
  @ValidationRule(
      value = Rules.POSITIVE_QUANTITY,
      message = "maxSharedMemoryPerInstance must be a positive Kubernetes quantity such as 4Gi",
      reason = "FieldValueInvalid")
  @ValidationRule(
      value = Rules.BELOW_MAX_BYTES,
      message = "maxSharedMemoryPerInstance" + Rules.BELOW_8EI,
      reason = "FieldValueInvalid")
  private Quantity maxSharedMemoryPerInstance;

  @JsonPropertyDescription("Largest segments.maxSegments a group may set.")
  @Min(1)
  private Integer maxSegmentsPerInstance;

  @JsonPropertyDescription("Largest segments.maxBytes a group may set.")
  @ValidationRule(
      value = Rules.POSITIVE_QUANTITY,
      message = "maxBytesPerInstance must be a positive Kubernetes quantity such as 1Gi",
      reason = "FieldValueInvalid")
  @ValidationRule(
      value = Rules.BELOW_MAX_BYTES,
      message = "maxBytesPerInstance" + Rules.BELOW_8EI,
      reason = "FieldValueInvalid")
  private Quantity maxBytesPerInstance;

  @JsonPropertyDescription(
      "Orphan policy of the groups that set no segments.orphanPolicy (unset: Report). Where several policies set one, Report wins.")
  private OrphanPolicy defaultOrphanPolicy;

  @JsonPropertyDescription(
      "Strongest orphan policy in effect for the governed groups: with Report, a group asking for Delete gets Report (status.effectiveOrphanPolicy says it is capped). Where several policies set one, Report wins.")
  private OrphanPolicy strongestOrphanPolicy;

  public LabelSelector getNamespaceSelector() {
    return namespaceSelector;
  }

  public void setNamespaceSelector(LabelSelector namespaceSelector) {
    this.namespaceSelector = namespaceSelector;
  }

  public List<Placement> getAllowedPlacements() {
    return allowedPlacements;
  }

  public void setAllowedPlacements(List<Placement> allowedPlacements) {
    this.allowedPlacements = allowedPlacements;
  }

  public Boolean getAllowHostIPC() {
    return allowHostIPC;
  }

  public void setAllowHostIPC(Boolean allowHostIPC) {
    this.allowHostIPC = allowHostIPC;
  }

  public Quantity getMaxSharedMemoryPerInstance() {
    return maxSharedMemoryPerInstance;
  }

  public void setMaxSharedMemoryPerInstance(Quantity maxSharedMemoryPerInstance) {
    this.maxSharedMemoryPerInstance = maxSharedMemoryPerInstance;
  }

  public Integer getMaxSegmentsPerInstance() {
    return maxSegmentsPerInstance;
  }

  public void setMaxSegmentsPerInstance(Integer maxSegmentsPerInstance) {
    this.maxSegmentsPerInstance = maxSegmentsPerInstance;
  }

  public Quantity getMaxBytesPerInstance() {
    return maxBytesPerInstance;
  }

  public void setMaxBytesPerInstance(Quantity maxBytesPerInstance) {
    this.maxBytesPerInstance = maxBytesPerInstance;
  }

  public OrphanPolicy getDefaultOrphanPolicy() {
    return defaultOrphanPolicy;
  }

  public void setDefaultOrphanPolicy(OrphanPolicy defaultOrphanPolicy) {
    this.defaultOrphanPolicy = defaultOrphanPolicy;
  }

  public OrphanPolicy getStrongestOrphanPolicy() {
    return strongestOrphanPolicy;
  }

  public void setStrongestOrphanPolicy(OrphanPolicy strongestOrphanPolicy) {
    this.strongestOrphanPolicy = strongestOrphanPolicy;
  }
}
