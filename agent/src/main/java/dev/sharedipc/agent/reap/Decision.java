package dev.sharedipc.agent.reap;

import dev.sharedipc.agent.survey.Finding;

/** The reaper's decision on one segment and why. */
public record Decision(Finding finding, Action action, String reason) {
  public String audit() {
    return finding.audit(action.name(), reason);
  }
}
