package dev.sharedipc.agent.scan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.agent.kernel.FsUsage;
import dev.sharedipc.agent.testing.FakeKernel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which directory counts as a namespace's mqueue filesystem (only one whose statfs type is mqueue,
 * as the fake kernel answers here; {@code SemaphoresAndQueuesIT} reads a real one), and what is
 * read from its files.
 */
class PosixQueueCollectorTest {
  static final long NS = 4026532001L;
  @TempDir Path proc;
  final FakeKernel kernel = new FakeKernel();

  private Path mqueueOf(int pid) throws Exception {
    Path dir = proc.resolve(pid + "/root/dev/mqueue");
    Files.createDirectories(dir);
    return dir;
  }

  @Test
  void queuesAreListedFromTheFirstProcessThatShowsAnMqueueFilesystem() throws Exception {
    Path notMqueue =
        mqueueOf(
            10); // a plain directory, e.g. the host's /dev seen from a container without mqueue
    Files.writeString(notMqueue.resolve("decoy"), "QSIZE:1");
    kernel.filesystems.put(notMqueue, new FsUsage(FsUsage.TMPFS_MAGIC, 0, 0, 0));
    Path mq = mqueueOf(11);
    kernel.filesystems.put(mq, new FsUsage(PosixQueueCollector.MQUEUE_MAGIC, 0, 0, 0, device(mq)));
    Files.writeString(
        mq.resolve("orders"), "QSIZE:129        NOTIFY:0     SIGNO:0     NOTIFY_PID:0     \n");
    Files.writeString(
        mq.resolve("fills"), "QSIZE:0          NOTIFY:0     SIGNO:0     NOTIFY_PID:0     \n");
    Files.createDirectory(mq.resolve("not-a-queue"));
    Files.createSymbolicLink(mq.resolve("link"), mq.resolve("orders"));

    PosixQueueCollector.Result r =
        new PosixQueueCollector(kernel, proc)
            .collect(new IpcNamespace(NS, false, List.of(10, 11), List.of()));

    assertThat(r.unreadable()).isNull();
    assertThat(r.queues())
        .extracting(PosixQueue::name, PosixQueue::queuedBytes, PosixQueue::ipcNamespace)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("/fills", 0L, NS),
            org.assertj.core.groups.Tuple.tuple("/orders", 129L, NS));
  }

  private static long device(Path p) throws Exception {
    return ((Number) Files.getAttribute(p, "unix:dev")).longValue();
  }

  @Test
  void aDirectoryOnAnotherDeviceThanTheMqueueFilesystemStatfsSawIsNotRead() throws Exception {
    // statfs said mqueue, but what is opened is another filesystem (the path was swapped in
    // between): nothing is read
    Path mq = mqueueOf(11);
    Files.writeString(mq.resolve("shadow"), "QSIZE:1");
    kernel.filesystems.put(
        mq, new FsUsage(PosixQueueCollector.MQUEUE_MAGIC, 0, 0, 0, device(mq) + 1));

    PosixQueueCollector.Result r =
        new PosixQueueCollector(kernel, proc)
            .collect(new IpcNamespace(NS, false, List.of(11), List.of()));

    assertThat(r.queues()).isEmpty();
    assertThat(r.unreadable()).contains("unknown", "changed while it was opened");
  }

  @Test
  void aNamespaceWhereNoProcessShowsAnMqueueFilesystemIsUnknownNotEmpty() throws Exception {
    mqueueOf(10);
    PosixQueueCollector.Result r =
        new PosixQueueCollector(kernel, proc)
            .collect(new IpcNamespace(NS, false, List.of(10, 12), List.of()));

    assertThat(r.queues()).isEmpty();
    assertThat(r.unreadable())
        .isEqualTo(
            "POSIX message queues of ipc:["
                + NS
                + "] are unknown: none of the 2 process(es) tried "
                + "shows an mqueue filesystem at /dev/mqueue (its runtime mounted none there)");
  }

  @Test
  void qsizeIsReadFromTheQueueFilesContent() {
    assertThat(PosixQueueCollector.qsize("QSIZE:4096 NOTIFY:0".getBytes(StandardCharsets.US_ASCII)))
        .isEqualTo(4096);
    assertThat(PosixQueueCollector.qsize("NOTIFY:0".getBytes(StandardCharsets.US_ASCII)))
        .isEqualTo(-1);
    assertThat(PosixQueueCollector.qsize("QSIZE: x".getBytes(StandardCharsets.US_ASCII)))
        .isEqualTo(-1);
  }

  @Test
  void theDeviceOfAnOpenedFileIsItsStDev() throws Exception {
    assertThat(
            PosixQueueCollector.device(
                Files.readAttributes(proc, java.nio.file.attribute.BasicFileAttributes.class)))
        .isEqualTo(device(proc));
  }
}
