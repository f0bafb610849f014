package dev.sharedipc.agent.scan;

import java.util.List;

/**
 * Parses {@code /proc/sysvipc/shm}: a header line, then one line per segment with the columns key
 * shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime [rss swap] (key signed
 * decimal, perms octal), read by {@link SysvTable}.
 */
public final class SysvShmParser {

  /** The segments and how many lines were skipped as malformed. */
  public record Result(List<Segment> segments, int malformedLines) {}

  private SysvShmParser() {}

  public static Result parse(long ipcNamespace, byte[] text) {
    SysvTable.Rows<Segment> table =
        SysvTable.parse(
            text,
            (f, count) -> {
              boolean memory = count == 16;
              return new Segment(
                  ipcNamespace,
                  (int) f[0],
                  (int) f[1],
                  (int) f[2],
                  f[3],
                  (int) f[4],
                  (int) f[5],
                  f[6],
                  (int) f[7],
                  (int) f[8],
                  (int) f[9],
                  (int) f[10],
                  f[11],
                  f[12],
                  f[13],
                  memory ? f[14] : -1,
                  memory ? f[15] : -1);
            },
            16,
            14);
    return new Result(table.rows(), table.malformedLines());
  }
}
