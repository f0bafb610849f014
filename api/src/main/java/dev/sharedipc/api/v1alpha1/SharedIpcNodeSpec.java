package dev.sharedipc.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Settings of one node's agent that an admin may want to see next to its report. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SharedIpcNodeSpec {

  @JsonPropertyDescription("True when the agent only reports what it would remove (--dry-run).")
  private Boolean dryRun;

  public Boolean getDryRun() {
    return dryRun;
  }

  public void setDryRun(Boolean dryRun) {
    this.dryRun = dryRun;
  }
}
