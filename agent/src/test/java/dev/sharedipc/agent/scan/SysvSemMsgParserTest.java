package dev.sharedipc.agent.scan;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The semaphore and message-queue tables, as a 6.x kernel prints them (captured with ipcmk in a
 * fresh IPC namespace).
 */
class SysvSemMsgParserTest {
  static final String SEM =
      """
             key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime
      -191459549          0   644          3     0     0     0     0          0 1795800736
        51966          7   600          1  1000  1001  1000  1001 1795800800 1795800736
      """;
  static final String MSG =
      """
             key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime
      -1539475998          0   644           0          0     0     0     0     0     0     0          0          0 1795800736
      -603766283          1   600        4096          3   812   815  1000  1001  1000  1001 1795800900 1795800901 1795800736
      """;

  @Test
  void semaphoreSetsKeepEveryColumn() {
    SysvSemMsgParser.Semaphores s =
        SysvSemMsgParser.semaphores(4026531839L, SEM.getBytes(StandardCharsets.US_ASCII));
    assertThat(s.malformedLines()).isZero();
    assertThat(s.sets())
        .containsExactly(
            new SemaphoreSet(4026531839L, -191459549, 0, 0644, 3, 0, 0, 0, 0, 0, 1795800736L),
            new SemaphoreSet(
                4026531839L, 51966, 7, 0600, 1, 1000, 1001, 1000, 1001, 1795800800L, 1795800736L));
    assertThat(s.sets().get(1).keyHex()).isEqualTo("0x0000cafe");
    assertThat(s.sets().get(1).permsOctal()).isEqualTo("600");
  }

  @Test
  void messageQueuesKeepEveryColumn() {
    SysvSemMsgParser.Queues q =
        SysvSemMsgParser.queues(1L, MSG.getBytes(StandardCharsets.US_ASCII));
    assertThat(q.malformedLines()).isZero();
    assertThat(q.queues()).hasSize(2);
    MessageQueue busy = q.queues().get(1);
    assertThat(busy)
        .isEqualTo(
            new MessageQueue(
                1L,
                -603766283,
                1,
                0600,
                4096,
                3,
                812,
                815,
                1000,
                1001,
                1000,
                1001,
                1795800900L,
                1795800901L,
                1795800736L));
  }

  @Test
  void malformedLinesAreCountedNotGuessed() {
    String text = SEM + "   12   x   644   1 0 0 0 0 0 1\n   1 2 3\n\n";
    SysvSemMsgParser.Semaphores s =
        SysvSemMsgParser.semaphores(1L, text.getBytes(StandardCharsets.US_ASCII));
    assertThat(s.sets()).hasSize(2);
    assertThat(s.malformedLines()).isEqualTo(2);
    // A message-queue line handed to the semaphore parser has the wrong column count.
    assertThat(
            SysvSemMsgParser.semaphores(1L, MSG.getBytes(StandardCharsets.US_ASCII))
                .malformedLines())
        .isEqualTo(2);
  }

  @Test
  void anEmptyTableIsNoObjects() {
    assertThat(
            SysvSemMsgParser.queues(1L, "key msqid perms\n".getBytes(StandardCharsets.US_ASCII))
                .queues())
        .isEmpty();
    assertThat(SysvSemMsgParser.queues(1L, new byte[0]).queues()).isEmpty();
  }
}
