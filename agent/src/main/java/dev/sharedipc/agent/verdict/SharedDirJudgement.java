package dev.sharedipc.agent.verdict;

/** A verdict on a SameNode shared directory and the sentence that explains it. */
public record SharedDirJudgement(SharedDirVerdict verdict, String reason) {}
