package dev.sharedipc.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.ValidationRule;

/** Placement timing (SameNode gang placement). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SchedulingSpec {
  static final String DURATION_PATTERN = "^([0-9]+(\\.[0-9]+)?(ns|us|ms|s|m|h))+$";

  @JsonPropertyDescription(
      "SameNode: an instance not fully Running after this long is deleted and placed again as a whole. A duration such as 60s or 5m, at least 10s.")
  @Default("60s")
  @Pattern(DURATION_PATTERN)
  // A floor: below it pulling images and starting containers alone outlast the timeout, and every
  // instance would be deleted and placed again over and over.
  @ValidationRule(
      value = "duration(self) >= duration('10s')",
      message =
          "scheduling.timeout must be at least 10s: shorter, instances are re-placed before their containers can start",
      reason = "FieldValueInvalid")
  private String timeout = "60s";

  public String getTimeout() {
    return timeout;
  }

  public void setTimeout(String timeout) {
    this.timeout = timeout;
  }
}
