package dev.sharedipc.operator.placement;

/**
 * Where the {@link InstancePlacer} put one instance: on a node, or nowhere, with a reason and a
 * message for the group's {@code Placed} condition.
 */
public sealed interface Placement permits Placement.Placed, Placement.NoFit {
  /** The instance's index. */
  int index();

  /** Every member pod of the instance goes to {@code node}. */
  record Placed(int index, String node) implements Placement {}

  /**
   * No node can hold the instance. {@code reason} is CamelCase for a condition ({@code NoNodeFits},
   * {@code NoNodes}); {@code message} names the closest nodes and what each lacks.
   */
  record NoFit(int index, String reason, String message) implements Placement {}
}
