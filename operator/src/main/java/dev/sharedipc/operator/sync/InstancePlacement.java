package dev.sharedipc.operator.sync;

import dev.sharedipc.api.v1alpha1.InstanceStatus;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Optional;

/**
 * Where a SameNode instance lives and its history there, kept in {@code status.instances[]} so that
 * a restarted operator reaches the same verdicts: an instance whole once is healed in place, one
 * never whole is placed again after {@code scheduling.timeout} from {@code placedAt}.
 *
 * @param node the node chosen for the instance
 * @param placedAt when it was chosen
 * @param firstWholeAt when every member first ran there; null until then
 * @param brokenSince since when a member is missing or not running after the instance was whole;
 *     null while whole
 */
public record InstancePlacement(
    String node, Instant placedAt, Instant firstWholeAt, Instant brokenSince) {

  public InstancePlacement {
    placedAt = millis(placedAt);
    firstWholeAt = millis(firstWholeAt);
    brokenSince = millis(brokenSince);
  }

  public boolean wasWhole() {
    return firstWholeAt != null;
  }

  /** What a status entry says, if it holds a placement a previous pass wrote. */
  public static Optional<InstancePlacement> of(InstanceStatus instance) {
    if (instance.getNode() == null || instance.getPlacedAt() == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          new InstancePlacement(
              instance.getNode(),
              Instant.parse(instance.getPlacedAt()),
              parse(instance.getFirstWholeAt()),
              parse(instance.getBrokenSince())));
    } catch (DateTimeParseException e) {
      return Optional.empty(); // written by hand: as if never recorded
    }
  }

  public void writeTo(InstanceStatus instance) {
    instance.setNode(node);
    instance.setPlacedAt(placedAt.toString());
    instance.setFirstWholeAt(firstWholeAt == null ? null : firstWholeAt.toString());
    instance.setBrokenSince(brokenSince == null ? null : brokenSince.toString());
  }

  private static Instant parse(String value) {
    return value == null ? null : Instant.parse(value);
  }

  /** Milliseconds are plenty, and keep status from changing on every pass through a round trip. */
  private static Instant millis(Instant t) {
    return t == null ? null : t.truncatedTo(ChronoUnit.MILLIS);
  }
}
