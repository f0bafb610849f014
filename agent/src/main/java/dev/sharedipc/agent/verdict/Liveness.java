package dev.sharedipc.agent.verdict;

import dev.sharedipc.agent.scan.ProcessTable;
import dev.sharedipc.agent.scan.Segment;

/**
 * Whether the creator and last operator of a segment are alive in its namespace, as the real procfs
 * says at judgement time.
 */
public record Liveness(boolean creatorAlive, boolean lastOperatorAlive) {

  /**
   * The one way the agent asks, for judgement and again right before removal: the creator is its
   * {@code cpid} alive and started by the segment's ctime, the last operator its {@code lpid} alive
   * and started by the segment's last use (its last attach or detach happened by then, whatever an
   * IPC_SET did to ctime). The same pid may be both: each is checked.
   */
  public static Liveness of(Segment s, ProcessTable live) {
    boolean creator = live.aliveSince(s.cpid(), s.ipcNamespace(), s.ctime());
    boolean lastOperator = live.aliveSince(s.lpid(), s.ipcNamespace(), s.lastUseEpochSecond());
    return ALL[(creator ? 2 : 0) + (lastOperator ? 1 : 0)];
  }

  /** The four answers, shared: a pass holds one per segment. */
  private static final Liveness[] ALL = {
    new Liveness(false, false),
    new Liveness(false, true),
    new Liveness(true, false),
    new Liveness(true, true)
  };
}
