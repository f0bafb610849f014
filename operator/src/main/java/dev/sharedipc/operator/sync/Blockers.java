package dev.sharedipc.operator.sync;

import java.util.List;
import java.util.Map;

/**
 * What stood in the way of one sync step.
 *
 * @param taken desired pod names held by objects the group does not own (left untouched)
 * @param rejected desired pods the API server refused (invalid, forbidden), name to its message
 */
public record Blockers(List<String> taken, Map<String, String> rejected) {
  public static final Blockers NONE = new Blockers(List.of(), Map.of());

  public boolean isEmpty() {
    return taken.isEmpty() && rejected.isEmpty();
  }
}
