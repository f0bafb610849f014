package dev.sharedipc.operator.assessment;

/** A condition-shaped judgement from a collaborator: true, false or unknown, with why. */
public record Assessment(Boolean holds, String reason, String message) {
  public static Assessment unknown(String reason, String message) {
    return new Assessment(null, reason, message);
  }
}
