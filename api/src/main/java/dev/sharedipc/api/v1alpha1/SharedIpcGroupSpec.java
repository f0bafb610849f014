package dev.sharedipc.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.model.annotation.SpecReplicas;
import java.util.ArrayList;
import java.util.List;

/** What a user asks for: how many instances, how members are placed, and the memory they share. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "self.placement == 'SameNode' || !self.hostIPC",
    message =
        "hostIPC: true needs placement: SameNode; the containers of a SamePod instance already share their pod's IPC namespace",
    reason = "FieldValueForbidden",
    fieldPath = ".hostIPC")
@ValidationRule(
    value =
        "!has(self.sharedMemory) || !has(self.sharedMemory.accountTo) || self.members.exists(m, m.name == self.sharedMemory.accountTo)",
    message = "sharedMemory.accountTo must name one of the members",
    reason = "FieldValueInvalid",
    fieldPath = ".sharedMemory.accountTo")
@ValidationRule(
    value =
        "self.placement != 'SamePod' || self.members.all(m, !has(m.template.spec) || !has(m.template.spec.hostNetwork) || self.members.all(n, !has(n.template.spec) || !has(n.template.spec.hostNetwork) || n.template.spec.hostNetwork == m.template.spec.hostNetwork))",
    message =
        "SamePod members become one pod: their pod templates must not set different hostNetwork",
    reason = "FieldValueInvalid",
    fieldPath = ".members")
@ValidationRule(
    value =
        "self.placement != 'SamePod' || self.members.all(m, !has(m.template.spec) || !has(m.template.spec.hostPID) || self.members.all(n, !has(n.template.spec) || !has(n.template.spec.hostPID) || n.template.spec.hostPID == m.template.spec.hostPID))",
    message = "SamePod members become one pod: their pod templates must not set different hostPID",
    reason = "FieldValueInvalid",
    fieldPath = ".members")
public class SharedIpcGroupSpec {

  @JsonPropertyDescription(
      "Number of independent instances; each instance is one co-located set of all members. 0 keeps the group but runs nothing.")
  @Default("1")
  @Min(0)
  @Max(1000)
  @SpecReplicas
  private Integer replicas = 1;

  @JsonPropertyDescription(
      "SamePod (default): one pod per instance with every member as a container, sharing the pod's IPC namespace. SameNode: one pod per member, all pods of an instance on one node.")
  @Default("SamePod")
  @ValidationRule(
      value = "self == oldSelf",
      message =
          "placement is immutable: SamePod and SameNode instances cannot be converted in place; create a new group with the other placement and delete this one",
      reason = "FieldValueForbidden")
  private Placement placement = Placement.SamePod;

  @JsonPropertyDescription(
      "The memory-backed volume every member of an instance sees, and how it is accounted.")
  @Required
  private SharedMemorySpec sharedMemory;

  @JsonPropertyDescription(
      "SameNode only: run the instance's pods in the node's IPC namespace so that System V segments are shared across pods. Needs a SharedIpcPolicy with allowHostIPC.")
  @Default("false")
  private Boolean hostIPC = false;

  @JsonPropertyDescription(
      "The processes that share memory: 1 to 16 members with unique DNS-1123 names, each with a pod template.")
  @Required
  @Size(min = 1, max = 16)
  @ValidationRule(
      value = "self.all(m, self.exists_one(n, n.name == m.name))",
      message = "member names must be unique",
      reason = "FieldValueInvalid")
  private List<MemberSpec> members = new ArrayList<>();

  @JsonPropertyDescription(
      "How long placement may take before an instance is placed again (SameNode).")
  private SchedulingSpec scheduling;

  @JsonPropertyDescription(
      "Quotas for System V segments and what the node agent does with orphaned ones.")
  private SegmentsSpec segments;

  public Integer getReplicas() {
    return replicas;
  }

  public void setReplicas(Integer replicas) {
    this.replicas = replicas;
  }

  public Placement getPlacement() {
    return placement;
  }

  public void setPlacement(Placement placement) {
    this.placement = placement;
  }

  public SharedMemorySpec getSharedMemory() {
    return sharedMemory;
  }

  public void setSharedMemory(SharedMemorySpec sharedMemory) {
    this.sharedMemory = sharedMemory;
  }

  public Boolean getHostIPC() {
    return hostIPC;
  }

  public void setHostIPC(Boolean hostIPC) {
    this.hostIPC = hostIPC;
  }

  public List<MemberSpec> getMembers() {
    return members;
  }

  public void setMembers(List<MemberSpec> members) {
    this.members = members;
  }

  public SchedulingSpec getScheduling() {
    return scheduling;
  }

  public void setScheduling(SchedulingSpec scheduling) {
    this.scheduling = scheduling;
  }

  public SegmentsSpec getSegments() {
    return segments;
  }

  public void setSegments(SegmentsSpec segments) {
    this.segments = segments;
  }
}
