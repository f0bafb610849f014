package dev.sharedipc.operator.render;

/** A placement this operator version cannot realise; reported on the group, never retried hot. */
public class UnsupportedPlacement extends MergeConflict {
  private static final long serialVersionUID = 1L;

  public UnsupportedPlacement(String message) {
    super(message);
  }
}
