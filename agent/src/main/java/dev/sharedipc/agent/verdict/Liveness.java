package dev.sharedipc.agent.verdict;

/**
 * Whether the creator and last operator of a segment are alive in its namespace, as the real
 * procfs says at judgement time.
 */
public record Liveness(boolean creatorAlive, boolean lastOperatorAlive) {}
