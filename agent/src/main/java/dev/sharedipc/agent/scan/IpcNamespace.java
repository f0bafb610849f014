package dev.sharedipc.agent.scan;

import dev.sharedipc.agent.kernel.NamespaceRef;
import java.nio.file.Path;
import java.util.List;

/**
 * One IPC namespace found under the proc root: its inode, whether it is the agent's own (host)
 * namespace, and the pids seen in it with their {@code ns/ipc} files (the ways in).
 */
public record IpcNamespace(long inode, boolean host, List<Integer> pids, List<Path> nsFiles) {
  public IpcNamespace {
    pids = List.copyOf(pids);
    nsFiles = List.copyOf(nsFiles);
  }

  public NamespaceRef ref() {
    return new NamespaceRef(inode, nsFiles);
  }
}
