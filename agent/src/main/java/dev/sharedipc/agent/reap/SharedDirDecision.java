package dev.sharedipc.agent.reap;

import dev.sharedipc.agent.scan.SharedDirName;
import dev.sharedipc.agent.verdict.SharedDirJudgement;
import java.util.Optional;

/** The shared-directory reaper's decision on one entry of the shared root, and why. */
public record SharedDirDecision(
    String path,
    String name,
    Optional<SharedDirName> owner,
    SharedDirJudgement judgement,
    Action action,
    String reason) {

  /** One key=value audit line: everything needed to know what was decided and why. */
  public String audit() {
    SharedDirName o = owner.orElse(null);
    return "dir="
        + quote(path)
        + " namespace="
        + (o == null ? "-" : o.namespace())
        + " group="
        + (o == null ? "-" : o.group())
        + " instance="
        + (o == null ? "-" : Integer.toString(o.instance()))
        + " verdict="
        + judgement.verdict()
        + " action="
        + action
        + " reason="
        + quote(reason);
  }

  private static String quote(String s) {
    return "\"" + (s == null ? "" : s.replace("\\", "\\\\").replace("\"", "\\\"")) + "\"";
  }
}
