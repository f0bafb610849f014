package dev.sharedipc.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.crd.generator.annotation.PreserveUnknownFields;
import java.util.Objects;

/**
 * The last group spec the operator admitted under SharedIpcPolicy, kept in status so that a group
 * that later breaks a policy (the policy tightened, or the user changed the spec) keeps healing:
 * its running instances' lost pods are re-created from this spec, while new instances and spec
 * changes wait until the group complies. Written by the operator only.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AdmittedSpec {

  @JsonPropertyDescription("The metadata.generation whose spec was admitted.")
  private Long generation;

  // Kept as an opaque copy: repeating the whole group schema (member pod templates) in status would
  // double the CRD, and the operator reads it back through the same model class as spec.
  @JsonPropertyDescription(
      "A copy of that spec, with replicas lowered to the group's when it was scaled down since.")
  @PreserveUnknownFields
  private JsonNode spec;

  public AdmittedSpec() {}

  public AdmittedSpec(Long generation, JsonNode spec) {
    this.generation = generation;
    this.spec = spec;
  }

  public Long getGeneration() {
    return generation;
  }

  public void setGeneration(Long generation) {
    this.generation = generation;
  }

  public JsonNode getSpec() {
    return spec;
  }

  public void setSpec(JsonNode spec) {
    this.spec = spec;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AdmittedSpec that
        && Objects.equals(generation, that.generation)
        && Objects.equals(spec, that.spec);
  }

  @Override
  public int hashCode() {
    return Objects.hash(generation, spec);
  }
}
