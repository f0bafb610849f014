package dev.sharedipc.operator.placement;

/**
 * Where the {@link InstancePlacer} put one instance: on a node, or nowhere, with a reason and a
 * message for the group's {@code Placed} condition.
 */
public sealed interface NodeChoice permits NodeChoice.Placed, NodeChoice.NoFit {
  /** The instance's index. */
  int index();

  /**
   * Every member pod of the instance goes to {@code node}. {@code unchecked} names the members'
   * constraints the placer could not judge (left to the scheduler), or is null when it judged them
   * all.
   */
  record Placed(int index, String node, String unchecked) implements NodeChoice {
    public Placed(int index, String node) {
      this(index, node, null);
    }
  }

  /**
   * No node can hold the instance. {@code reason} is CamelCase for a condition ({@code NoNodeFits},
   * {@code NoNodes}, {@code MembersExcludeEachOther}); {@code message} names the closest nodes and
   * what each lacks, or the members that can never share a node.
   */
  record NoFit(int index, String reason, String message) implements NodeChoice {}
}
