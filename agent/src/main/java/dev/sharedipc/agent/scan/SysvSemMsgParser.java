package dev.sharedipc.agent.scan;

import java.util.List;

/**
 * Parses {@code /proc/sysvipc/sem} (key semid perms nsems uid gid cuid cgid otime ctime) and {@code
 * /proc/sysvipc/msg} (key msqid perms cbytes qnum lspid lrpid uid gid cuid cgid stime rtime ctime),
 * read by {@link SysvTable}: the semaphore and message-queue halves of {@code ipcs -a}, beside
 * {@link SysvShmParser}.
 */
public final class SysvSemMsgParser {
  /** The semaphore sets and how many lines were skipped as malformed. */
  public record Semaphores(List<SemaphoreSet> sets, int malformedLines) {}

  /** The message queues and how many lines were skipped as malformed. */
  public record Queues(List<MessageQueue> queues, int malformedLines) {}

  private SysvSemMsgParser() {}

  public static Semaphores semaphores(long ipcNamespace, byte[] text) {
    SysvTable.Rows<SemaphoreSet> table =
        SysvTable.parse(
            text,
            (f, count) ->
                new SemaphoreSet(
                    ipcNamespace,
                    (int) f[0],
                    (int) f[1],
                    (int) f[2],
                    f[3],
                    (int) f[4],
                    (int) f[5],
                    (int) f[6],
                    (int) f[7],
                    f[8],
                    f[9]),
            10);
    return new Semaphores(table.rows(), table.malformedLines());
  }

  public static Queues queues(long ipcNamespace, byte[] text) {
    SysvTable.Rows<MessageQueue> table =
        SysvTable.parse(
            text,
            (f, count) ->
                new MessageQueue(
                    ipcNamespace,
                    (int) f[0],
                    (int) f[1],
                    (int) f[2],
                    f[3],
                    f[4],
                    (int) f[5],
                    (int) f[6],
                    (int) f[7],
                    (int) f[8],
                    (int) f[9],
                    (int) f[10],
                    f[11],
                    f[12],
                    f[13]),
            14);
    return new Queues(table.rows(), table.malformedLines());
  }
}
