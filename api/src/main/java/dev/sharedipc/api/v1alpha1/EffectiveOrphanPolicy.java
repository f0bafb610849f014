package dev.sharedipc.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Objects;

/**
 * The orphan policy the node agents obey for a group, resolved and published by the operator: the
 * group's own setting, else the default of the SharedIpcPolicy that governs its namespace, capped
 * by that policy's strongest allowed. The agent reads only this; a group without it (not yet
 * reconciled, or breaking policy) is treated as Report.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class EffectiveOrphanPolicy {

  @JsonPropertyDescription("Report or Delete: what the node agents do with this group's orphans.")
  private OrphanPolicy policy;

  @JsonPropertyDescription(
      "How long an orphan stays unused before it may be removed (a Go duration such as 10m).")
  private String gracePeriod;

  @JsonPropertyDescription(
      "Where the value comes from, as a sentence (the group, a policy's default, a policy's cap).")
  private String source;

  public EffectiveOrphanPolicy() {}

  public EffectiveOrphanPolicy(OrphanPolicy policy, String gracePeriod, String source) {
    this.policy = policy;
    this.gracePeriod = gracePeriod;
    this.source = source;
  }

  public OrphanPolicy getPolicy() {
    return policy;
  }

  public void setPolicy(OrphanPolicy policy) {
    this.policy = policy;
  }

  public String getGracePeriod() {
    return gracePeriod;
  }

  public void setGracePeriod(String gracePeriod) {
    this.gracePeriod = gracePeriod;
  }

  public String getSource() {
    return source;
  }

  public void setSource(String source) {
    this.source = source;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof EffectiveOrphanPolicy that
        && policy == that.policy
        && Objects.equals(gracePeriod, that.gracePeriod)
        && Objects.equals(source, that.source);
  }

  @Override
  public int hashCode() {
    return Objects.hash(policy, gracePeriod, source);
  }
}
