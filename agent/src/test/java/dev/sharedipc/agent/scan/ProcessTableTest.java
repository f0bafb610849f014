package dev.sharedipc.agent.scan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.agent.testing.ProcFixture;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Liveness of a segment's creator or last operator, with start times against pid reuse. */
class ProcessTableTest {
  static final long NS = 4026532001L;
  static final long BOOT = 1_767_000_000L;
  static final long CTIME = BOOT + 5_000;

  @TempDir Path proc;

  @Test
  void aProcessStartedBeforeTheActIsAliveSinceIt() {
    new ProcFixture(proc).booted(BOOT).process(10, NS, null).started(10, BOOT, CTIME - 30);
    assertThat(new ProcessTable(proc).aliveSince(10, NS, CTIME)).isTrue();
  }

  @Test
  void aProcessStartedWithinTheSecondOfTheActMayBeTheActor() {
    // started at CTIME + 0.99 s: the act (truncated to CTIME) may have come after it in the same
    // second
    new ProcFixture(proc)
        .booted(BOOT)
        .process(10, NS, null)
        .startedAtTick(10, (CTIME - BOOT) * 100 + 99);
    assertThat(new ProcessTable(proc).aliveSince(10, NS, CTIME)).isTrue();
  }

  @Test
  void aProcessStartedAfterTheActIsAReusedPidNotTheActor() {
    new ProcFixture(proc)
        .booted(BOOT)
        .process(10, NS, null)
        .startedAtTick(10, (CTIME + 1 - BOOT) * 100);
    ProcessTable table = new ProcessTable(proc);
    assertThat(table.aliveIn(10, NS)).as("the pid is alive").isTrue();
    assertThat(table.aliveSince(10, NS, CTIME))
        .as("but is not the process that acted at ctime")
        .isFalse();
  }

  @Test
  void unknownStartTimesProveNothingAndTheLivePidCounts() {
    new ProcFixture(proc).process(10, NS, null).startedAtTick(10, 1); // no /proc/stat: no boot time
    new ProcFixture(proc).process(11, NS, null); // no <pid>/stat
    ProcessTable table = new ProcessTable(proc);
    assertThat(table.aliveSince(10, NS, CTIME)).isTrue();
    assertThat(table.aliveSince(11, NS, CTIME)).isTrue();
  }

  @Test
  void aGoneOrForeignPidIsNotAlive() {
    new ProcFixture(proc).booted(BOOT).process(10, NS + 1, null).started(10, BOOT, CTIME - 30);
    ProcessTable table = new ProcessTable(proc);
    assertThat(table.aliveSince(10, NS, CTIME)).isFalse();
    assertThat(table.aliveSince(12, NS, CTIME)).isFalse();
    assertThat(table.aliveSince(0, NS, CTIME)).isFalse();
  }

  @Test
  void theStartTimeIsField22CountedAfterTheLastParenthesis() {
    assertThat(
            ProcessTable.parseStartTicks(
                "42 (a) b (c)) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 1000 10"))
        .isEqualTo(123456);
    assertThat(ProcessTable.parseStartTicks("42 (truncated")).isEqualTo(-1);
    assertThat(ProcessTable.parseStartTicks("42 (short) S 1 2")).isEqualTo(-1);
  }
}
