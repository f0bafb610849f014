package dev.sharedipc.agent.scan;

import dev.sharedipc.agent.kernel.LinuxKernel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Answers "is pid P alive in IPC namespace N?" from a procfs, for the creator and last operator of
 * a segment. A pid counts as alive there when the process, or any of its threads, is in N; a pid
 * reused by a process in another namespace is not the creator. Answers are memoized for one pass
 * (create a new table per pass); the reaper asks a fresh table right before acting.
 *
 * <p>A live pid is not always the process that acted on a segment: pids are reused. {@link
 * #aliveSince} also compares the process's start time ({@code <pid>/stat} field 22, clock ticks
 * since boot, plus {@code btime} of {@code /proc/stat}) with the second of the act (a segment's
 * ctime for its creator, its last attach or detach for its last operator): a process that started
 * after that second cannot have done it. Both clocks are truncated (btime to the second, the start
 * to the tick, the segment's times to the second), so the test takes the earliest start the numbers
 * allow and the latest act: it never disowns the real actor, and a process that started less than
 * two seconds after the act may still be taken for it. An unreadable start time proves nothing, and
 * the pid is taken as before. A wall clock stepped between the act and the scan shifts btime with
 * it; that is the limit of this test.
 *
 * <p>Production always reads the real {@code /proc}, even when discovery uses a fixture root:
 * liveness is kernel truth that decides removal.
 */
public final class ProcessTable {
  private final Path procRoot;

  /**
   * The unit of {@code <pid>/stat} start times: USER_HZ, which the kernel fixes at 100 for user
   * space on every architecture Kubernetes nodes run (x86, arm64, ppc64le, s390x), whatever its
   * internal HZ.
   */
  static final long USER_HZ = 100;

  /**
   * Per pid, the IPC namespace inodes of its threads (the first is the process's own); empty when
   * gone.
   */
  private final Map<Integer, long[]> nsByPid = new HashMap<>();

  /** Per pid, its start in clock ticks since boot; -1 when unreadable. */
  private final Map<Integer, Long> startTicks = new HashMap<>();

  private Long bootEpochSecond;

  public ProcessTable(Path procRoot) {
    this.procRoot = procRoot;
  }

  /**
   * The pid asked last and its namespaces: a namespace's segments mostly share their creator, and
   * asking the map again for it would box the pid each time.
   */
  private int lastPid = -1;

  private long[] lastNamespaces;

  /** Likewise for start times. */
  private int lastStartPid = -1;

  private long lastStartTicks;

  public boolean aliveIn(int pid, long ipcNamespace) {
    if (pid <= 0) {
      return false;
    }
    if (pid != lastPid) {
      lastNamespaces = nsByPid.computeIfAbsent(pid, this::namespacesOf);
      lastPid = pid;
    }
    for (long ns : lastNamespaces) {
      if (ns == ipcNamespace) {
        return true;
      }
    }
    return false;
  }

  /**
   * True when {@code pid} is alive in the namespace and may be the process that acted on a segment
   * at {@code actEpochSecond}: it did not start after that second. A time of 0 or less (never) has
   * nothing to compare with and checks liveness only.
   */
  public boolean aliveSince(int pid, long ipcNamespace, long actEpochSecond) {
    return aliveIn(pid, ipcNamespace) && !startedAfter(pid, actEpochSecond);
  }

  /**
   * True only when the pid's start time is known and provably after the second {@code epochSecond}.
   */
  boolean startedAfter(int pid, long epochSecond) {
    if (epochSecond <= 0) {
      return false;
    }
    if (pid != lastStartPid) {
      lastStartTicks = startTicks.computeIfAbsent(pid, this::readStartTicks);
      lastStartPid = pid;
    }
    long ticks = lastStartTicks;
    long boot = bootEpochSecond();
    if (ticks < 0 || boot < 0) {
      return false;
    }
    // the process started no earlier than boot + ticks/USER_HZ; the act happened before epochSecond
    // + 1
    return boot * USER_HZ + ticks >= (epochSecond + 1) * USER_HZ;
  }

  private long readStartTicks(int pid) {
    try {
      return parseStartTicks(
          new String(
              LinuxKernel.readProcFile(procRoot.resolve(Integer.toString(pid)).resolve("stat")),
              java.nio.charset.StandardCharsets.US_ASCII));
    } catch (Exception e) {
      return -1; // gone, or a fixture without stat
    }
  }

  /**
   * Field 22 (starttime) of a {@code /proc/<pid>/stat} line, or -1. The command name (field 2) is
   * in parentheses and may itself hold spaces and parentheses, so fields are counted after the last
   * ')'.
   */
  static long parseStartTicks(String stat) {
    int close = stat.lastIndexOf(')');
    if (close < 0) {
      return -1;
    }
    String[] fields = stat.substring(close + 1).trim().split("\\s+");
    // fields[0] is field 3 (state), so field 22 is fields[19]
    if (fields.length < 20) {
      return -1;
    }
    try {
      return Long.parseLong(fields[19]);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private long bootEpochSecond() {
    if (bootEpochSecond == null) {
      bootEpochSecond = -1L;
      try {
        for (String line :
            Files.readAllLines(
                procRoot.resolve("stat"), java.nio.charset.StandardCharsets.US_ASCII)) {
          if (line.startsWith("btime ")) {
            bootEpochSecond = Long.parseLong(line.substring(6).trim());
            break;
          }
        }
      } catch (Exception e) {
        // no /proc/stat (a fixture): start times cannot be placed in time, so they prove nothing
      }
    }
    return bootEpochSecond;
  }

  private long[] namespacesOf(int pid) {
    Path dir = procRoot.resolve(Integer.toString(pid));
    long own = NamespaceCollector.nsInode(dir.resolve("ns/ipc"));
    if (own < 0) {
      return new long[0];
    }
    // a thread of a live process may have joined another namespace with setns (the agent itself
    // does that)
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
      // no task directory (fixture trees) or the process just exited: its own namespace is what we
      // know
    }
    return all.stream().mapToLong(Long::longValue).toArray();
  }

  /** True when the pid exists at all, in any namespace. */
  public boolean exists(int pid) {
    return pid > 0 && Files.exists(procRoot.resolve(Integer.toString(pid)));
  }
}
