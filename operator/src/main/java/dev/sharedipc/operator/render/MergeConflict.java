package dev.sharedipc.operator.render;

/**
 * Member pod templates that cannot become one pod, said so that the user knows what to change.
 * Thrown by {@link PodTemplateMerger}; the reconciler turns it into a condition and an Event.
 */
public class MergeConflict extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public MergeConflict(String message) {
    super(message);
  }
}
