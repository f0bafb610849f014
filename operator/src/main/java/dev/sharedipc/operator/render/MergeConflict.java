package dev.sharedipc.operator.render;

/**
 * A group spec that cannot become pods, said so that the user knows what to change, with the
 * condition reason that names the problem ({@code InvalidMemberTemplates} for member pod templates
 * that cannot be merged, {@code SharedMemoryMissing} for a group without spec.sharedMemory.size).
 * Thrown by {@link PodTemplateMerger} and {@link GroupRenderer}; the reconciler turns it into a
 * condition and an Event.
 */
public class MergeConflict extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The reason of member templates that cannot become one pod. */
  public static final String INVALID_MEMBER_TEMPLATES = "InvalidMemberTemplates";

  private final String reason;

  public MergeConflict(String message) {
    this(INVALID_MEMBER_TEMPLATES, message);
  }

  public MergeConflict(String reason, String message) {
    super(message);
    this.reason = reason;
  }

  /** The CamelCase condition reason. */
  public String reason() {
    return reason;
  }
}
