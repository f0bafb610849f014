package dev.sharedipc.agent.kernel;

import java.nio.file.Path;
import java.util.List;

/**
 * An IPC namespace to join: its inode (the identity the agent reports and checks after joining) and
 * the {@code ns/ipc} files of the processes seen in it, tried in order, since any of them may exit
 * between discovery and {@code setns}.
 */
public record NamespaceRef(long inode, List<Path> nsFiles) {
  public NamespaceRef {
    nsFiles = List.copyOf(nsFiles);
  }
}
