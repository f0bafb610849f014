package dev.sharedipc.operator;

/** A condition-shaped judgement from a collaborator: true, false or unknown, with why. */
public record Verdict(Boolean holds, String reason, String message) {
  public static Verdict unknown(String reason, String message) {
    return new Verdict(null, reason, message);
  }
}
