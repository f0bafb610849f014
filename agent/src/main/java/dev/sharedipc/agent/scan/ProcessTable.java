package dev.sharedipc.agent.scan;

import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Answers "is pid P alive in IPC namespace N?" from a procfs, for the creator and last operator
 * of a segment. A pid counts as alive there when the process, or any of its threads, is in N; a
 * pid reused by a process in another namespace is not the creator. Answers are memoized for one
 * pass (create a new table per pass); the reaper asks a fresh table right before acting.
 *
 * <p>Production always reads the real {@code /proc}, even when discovery uses a fixture root:
 * liveness is kernel truth that decides removal.
 */
public final class ProcessTable {
  private final Path procRoot;
  /** Per pid, the IPC namespace inodes of its threads (the first is the process's own); empty when gone. */
  private final Map<Integer, long[]> nsByPid = new HashMap<>();

  public ProcessTable(Path procRoot) {
    this.procRoot = procRoot;
  }

  public boolean aliveIn(int pid, long ipcNamespace) {
    if (pid <= 0) {
      return false;
    }
    for (long ns : nsByPid.computeIfAbsent(pid, this::namespacesOf)) {
      if (ns == ipcNamespace) {
        return true;
      }
    }
    return false;
  }

  private long[] namespacesOf(int pid) {
    Path dir = procRoot.resolve(Integer.toString(pid));
    long own = NamespaceCollector.nsInode(dir.resolve("ns/ipc"));
    if (own < 0) {
      return new long[0];
    }
    // a thread of a live process may have joined another namespace with setns (the agent itself does that)
    java.util.Set<Long> all = new java.util.LinkedHashSet<>();
    all.add(own);
    try (DirectoryStream<Path> threads = Files.newDirectoryStream(dir.resolve("task"))) {
      for (Path t : threads) {
        long ns = NamespaceCollector.nsInode(t.resolve("ns/ipc"));
        if (ns > 0) {
          all.add(ns);
        }
      }
    } catch (Exception e) {
      // no task directory (fixture trees) or the process just exited: its own namespace is what we know
    }
    return all.stream().mapToLong(Long::longValue).toArray();
  }

  /** True when the pid exists at all, in any namespace. */
  public boolean exists(int pid) {
    return pid > 0 && Files.exists(procRoot.resolve(Integer.toString(pid)));
  }
}
