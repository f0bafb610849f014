package dev.sharedipc.agent.scan;

import dev.sharedipc.agent.kernel.LinuxKernel;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Finds the distinct IPC namespaces under a proc root from {@code <pid>/ns/ipc}. The link text
 * ({@code ipc:[inode]}) is read first; when it is not of that form (a fixture root links to a real
 * {@code /proc/<pid>/ns/ipc}) the file is followed and its inode taken. A pid that exits while it
 * is being read is skipped: processes come and go during every scan.
 */
public final class NamespaceCollector {
  private static final int MAX_WAYS_IN = 4;
  private final Path procRoot;
  private final long hostInode;

  /**
   * @param procRoot the proc root to discover from ({@code /proc}, or a fixture tree)
   * @param hostInode the inode of the host's IPC namespace (--host-ipc-ns, by default
   *     /proc/1/ns/ipc; not the agent's own)
   */
  public NamespaceCollector(Path procRoot, long hostInode) {
    this.procRoot = procRoot;
    this.hostInode = hostInode;
  }

  public List<IpcNamespace> collect() throws IOException {
    Map<Long, List<Integer>> pidsByInode = new TreeMap<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(procRoot)) {
      for (Path entry : entries) {
        int pid = pidOf(entry.getFileName().toString());
        if (pid <= 0) {
          continue;
        }
        long inode = nsInode(entry.resolve("ns/ipc"));
        if (inode > 0) {
          pidsByInode.computeIfAbsent(inode, k -> new ArrayList<>()).add(pid);
        }
      }
    }
    List<IpcNamespace> namespaces = new ArrayList<>(pidsByInode.size());
    for (Map.Entry<Long, List<Integer>> e : pidsByInode.entrySet()) {
      List<Integer> pids = e.getValue();
      pids.sort(null);
      List<Path> ways = new ArrayList<>();
      for (int i = 0; i < pids.size() && i < MAX_WAYS_IN; i++) {
        ways.add(procRoot.resolve(Integer.toString(pids.get(i))).resolve("ns/ipc"));
      }
      namespaces.add(new IpcNamespace(e.getKey(), e.getKey() == hostInode, pids, ways));
    }
    return namespaces;
  }

  /**
   * The inode of an {@code ns/ipc} file, or -1 when the process is gone or the file is not a
   * namespace.
   */
  public static long nsInode(Path nsFile) {
    try {
      // one readlink on the real procfs; fixture trees have plain files, which only stat can read
      long inode = LinuxKernel.parseNsLink(Files.readSymbolicLink(nsFile).toString());
      if (inode > 0) {
        return inode;
      }
    } catch (java.nio.file.NotLinkException notLink) {
      // a fixture's plain file: its inode below
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return -1;
    }
    try {
      Object ino = Files.getAttribute(nsFile, "unix:ino");
      return ino instanceof Long l ? l : -1;
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return -1;
    }
  }

  static int pidOf(String name) {
    if (name.isEmpty() || name.length() > 10) {
      return -1;
    }
    int pid = 0;
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      pid = pid * 10 + (c - '0');
    }
    return pid;
  }
}
