package dev.sharedipc.agent.verdict;

/** A verdict and the sentence that explains it. */
public record Judgement(Verdict verdict, String reason) {}
