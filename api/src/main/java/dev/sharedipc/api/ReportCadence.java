package dev.sharedipc.api;

import java.time.Duration;

/**
 * When a node agent writes its SharedIpcNode and when the operator stops trusting it: one rule read
 * by both sides, so that the staleness the operator applies always follows the heartbeat the agent
 * keeps.
 *
 * <p>The agent writes its report when it changed materially (counts, orphans, removals, verdicts, a
 * byte figure that moved by more than a tenth) and otherwise once every {@link #HEARTBEAT}: a node
 * where nothing changes costs the API server one write per heartbeat. Every write carries the
 * {@code lastScanTime} of the pass that wrote it, so {@code lastScanTime} is the heartbeat. The
 * operator ignores a report whose {@code lastScanTime} is older than {@link #STALE_AFTER}: two
 * missed heartbeats, plus a minute for a slow scan interval and clock skew.
 */
public final class ReportCadence {
  /** The longest an agent goes without writing its report while nothing changes. */
  public static final Duration HEARTBEAT = Duration.ofMinutes(5);

  /** A report older than this (two missed heartbeats and a minute) no longer counts. */
  public static final Duration STALE_AFTER = HEARTBEAT.multipliedBy(2).plusMinutes(1);

  private ReportCadence() {}
}
