package dev.sharedipc.agent.survey;

import dev.sharedipc.agent.attribution.Attribution;

/**
 * An inventoried IPC object (a semaphore set, a message queue) with the pod its namespace belongs
 * to. Nothing is judged about it: these objects are counted and reported, never removed.
 */
public record Attributed<T>(T object, Attribution attribution) {}
