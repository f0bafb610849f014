package dev.sharedipc.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;

/** One process (or set of containers) of an instance. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value =
        "!has(self.template.spec) || !has(self.template.spec.hostIPC) || !self.template.spec.hostIPC",
    message =
        "set hostIPC on the group (spec.hostIPC, SameNode only), not in a member's pod template",
    reason = "FieldValueForbidden",
    fieldPath = ".template.spec.hostIPC")
public class MemberSpec {

  @JsonPropertyDescription(
      "Name of the member, a DNS-1123 label (lower case letters, digits and '-', at most 63 characters). Used in pod names and the sharedipc.dev/member label.")
  @Required
  @Size(min = 1, max = 63)
  @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
  private String name;

  @JsonPropertyDescription(
      "Pod template of the member. SamePod: its containers join the instance's pod, and pod-level fields must agree with the other members'. SameNode: it becomes the member's pod.")
  @Required
  private PodTemplateSpec template;

  public MemberSpec() {}

  public MemberSpec(String name, PodTemplateSpec template) {
    this.name = name;
    this.template = template;
  }

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public PodTemplateSpec getTemplate() {
    return template;
  }

  public void setTemplate(PodTemplateSpec template) {
    this.template = template;
  }
}
