package dev.sharedipc.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Quantity;

/** Per-instance quotas for System V segments, and the orphan policy the node agent applies. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SegmentsSpec {

  // No default on purpose: unset means "the governing SharedIpcPolicy's defaultOrphanPolicy, else
  // Report",
  // which the operator can only tell apart from an explicit Report while the field stays absent.
  @JsonPropertyDescription(
      "Report: orphaned segments are kept and reported. Delete: the node agent removes them once nothing is attached, their creator is gone and the grace period has passed. Unset: the defaultOrphanPolicy of the SharedIpcPolicy governing the namespace, else Report. A SharedIpcPolicy's strongestOrphanPolicy caps it; status.effectiveOrphanPolicy shows what the agents obey.")
  private OrphanPolicy orphanPolicy;

  @JsonPropertyDescription(
      "How long a segment must have been unattached, with its creator gone, before it counts as orphaned. A duration such as 10m.")
  @Default("10m")
  @Pattern(SchedulingSpec.DURATION_PATTERN)
  private String orphanGracePeriod = "10m";

  @JsonPropertyDescription(
      "Most System V segments one instance may hold; more sets the condition WithinQuota=False.")
  @Default("256")
  @Min(1)
  private Integer maxSegments = 256;

  @JsonPropertyDescription(
      "Most bytes of System V segments one instance may hold, a quantity such as 1Gi; more sets WithinQuota=False.")
  @ValidationRule(
      value = Rules.POSITIVE_QUANTITY,
      message = "maxBytes must be a positive Kubernetes quantity such as 1Gi",
      reason = "FieldValueInvalid")
  @ValidationRule(
      value = Rules.BELOW_MAX_BYTES,
      message = "maxBytes" + Rules.BELOW_8EI,
      reason = "FieldValueInvalid")
  private Quantity maxBytes;

  // --- semaphore sets and message queues: counted, never removed, so a limit is the only brake on
  // a leak ---
  @JsonPropertyDescription(
      "Most System V semaphore sets one instance may hold; more sets WithinQuota=False. Unset: no limit. Semaphores have no attach count, so the node agent never removes them: a crash loop that leaks sets shows here.")
  @Min(1)
  private Integer maxSemaphoreSets;

  @JsonPropertyDescription(
      "Most message queues (System V, plus POSIX where the agent can read them) one instance may hold; more sets WithinQuota=False. Unset: no limit. Queues are never removed by the node agent.")
  @Min(1)
  private Integer maxMessageQueues;

  public Integer getMaxSemaphoreSets() {
    return maxSemaphoreSets;
  }

  public void setMaxSemaphoreSets(Integer maxSemaphoreSets) {
    this.maxSemaphoreSets = maxSemaphoreSets;
  }

  public Integer getMaxMessageQueues() {
    return maxMessageQueues;
  }

  public void setMaxMessageQueues(Integer maxMessageQueues) {
    this.maxMessageQueues = maxMessageQueues;
  }

  public OrphanPolicy getOrphanPolicy() {
    return orphanPolicy;
  }

  public void setOrphanPolicy(OrphanPolicy orphanPolicy) {
    this.orphanPolicy = orphanPolicy;
  }

  public String getOrphanGracePeriod() {
    return orphanGracePeriod;
  }

  public void setOrphanGracePeriod(String orphanGracePeriod) {
    this.orphanGracePeriod = orphanGracePeriod;
  }

  public Integer getMaxSegments() {
    return maxSegments;
  }

  public void setMaxSegments(Integer maxSegments) {
    this.maxSegments = maxSegments;
  }

  public Quantity getMaxBytes() {
    return maxBytes;
  }

  public void setMaxBytes(Quantity maxBytes) {
    this.maxBytes = maxBytes;
  }
}
