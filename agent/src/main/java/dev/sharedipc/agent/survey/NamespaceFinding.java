package dev.sharedipc.agent.survey;

import dev.sharedipc.agent.attribution.Attribution;
import dev.sharedipc.agent.scan.IpcNamespace;

/** One IPC namespace, its attribution, and why it could not be read (null when it was). */
public record NamespaceFinding(IpcNamespace namespace, Attribution attribution, String problem) {}
