package dev.sharedipc.agent.attribution;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.agent.scan.Segment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ledger's file: survives restarts, moves an unreadable file aside, and lets two writers share
 * it.
 */
class LedgerTest {
  @TempDir Path dir;

  static Segment seg(int shmid, long ctime) {
    return new Segment(1, 0x42, shmid, 0600, 4096, 10, 10, 0, 0, 0, 0, 0, 0, 0, ctime, 0, 0);
  }

  @Test
  void survivesARestartAndMatchesOnlyTheSameSegment() throws Exception {
    Path file = dir.resolve("state/ledger.json");
    Ledger ledger = Ledger.open(file);
    ledger.record(seg(5, 100), new PodInfo("uid-1", "ns", "pod", "g", 0, "uid-g"), Instant.EPOCH);
    ledger.save();

    Ledger again = Ledger.open(file);
    assertThat(again.lookup(seg(5, 100)))
        .as("with its group's UID, which the report carries so the operator tells groups apart")
        .isEqualTo(new PodInfo("uid-1", "ns", "pod", "g", 0, "uid-g"));
    assertThat(again.lookup(seg(5, 101)))
        .as("same id and key, new ctime: a different segment")
        .isNull();
    assertThat(again.lookup(seg(6, 100))).isNull();
  }

  @Test
  void aLaterSightingWithoutPodDetailsKeepsWhatWasKnown() {
    Ledger ledger = Ledger.inMemory();
    ledger.record(seg(5, 100), new PodInfo("uid-1", "ns", "pod", "g", 0), Instant.EPOCH);
    ledger.record(seg(5, 100), new PodInfo("uid-1", "ns", "pod", "g", 0, "uid-g"), Instant.EPOCH);
    ledger.record(seg(5, 100), new PodInfo("uid-1", null, null, null, null), Instant.EPOCH);
    assertThat(ledger.lookup(seg(5, 100)).group()).isEqualTo("g");
    assertThat(ledger.lookup(seg(5, 100)).groupUid())
        .as("learnt on a later sighting, then kept")
        .isEqualTo("uid-g");
  }

  @Test
  void anUnreadableLedgerIsMovedAsideKeptAndNeverOverwritten() throws Exception {
    Path file = dir.resolve("ledger.json");
    Files.writeString(file, "{not json");

    Ledger ledger = Ledger.open(file);

    assertThat(ledger.size()).isZero();
    assertThat(ledger.loadProblem()).contains("unreadable", "moved to", "kept, not removed");
    List<Path> aside;
    try (Stream<Path> files = Files.list(dir)) {
      aside =
          files
              .filter(p -> p.getFileName().toString().startsWith("ledger.json.unreadable-"))
              .toList();
    }
    assertThat(aside)
        .singleElement()
        .satisfies(
            p -> {
              assertThat(Files.readString(p)).isEqualTo("{not json");
              assertThat(ledger.loadProblem()).contains(p.toString());
            });

    ledger.record(seg(5, 100), new PodInfo("uid-1", "ns", "pod", "g", 0), Instant.EPOCH);
    ledger.save();

    assertThat(Files.readString(aside.get(0)))
        .as("the unreadable ledger survives the next save")
        .isEqualTo("{not json");
    assertThat(Ledger.open(file).lookup(seg(5, 100))).isNotNull();
  }

  @Test
  void aLedgerAsAnEarlierAgentWroteItIsReadAndFieldsItDoesNotKnowAreIgnored() throws Exception {
    Path file = dir.resolve("ledger.json");
    // as the agent wrote it with Jackson's ObjectMapper before kube/Json, plus a newer field
    Files.writeString(
        file,
        """
        {
          "version" : 1,
          "entries" : [ {
            "ipcNamespace" : 1,
            "shmid" : 5,
            "key" : 66,
            "ctime" : 100,
            "podUid" : "uid-1",
            "podNamespace" : "ns",
            "podName" : "pod",
            "group" : "g",
            "instance" : 0,
            "recordedAt" : "1970-01-01T00:00:00Z",
            "fromANewerAgent" : {"x" : [1]}
          }, {
            "ipcNamespace" : 1,
            "shmid" : 6,
            "key" : 66,
            "ctime" : 100,
            "podUid" : "uid-2",
            "podNamespace" : null,
            "podName" : null,
            "group" : null,
            "instance" : null,
            "recordedAt" : null
          } ]
        }
        """);
    Ledger ledger = Ledger.open(file);
    assertThat(ledger.loadProblem()).isNull();
    assertThat(ledger.lookup(seg(5, 100))).isEqualTo(new PodInfo("uid-1", "ns", "pod", "g", 0));
    assertThat(ledger.lookup(seg(6, 100))).isEqualTo(new PodInfo("uid-2", null, null, null, null));
  }

  @Test
  void aLedgerWithAFieldOfTheWrongTypeOrOutOfRangeIsUnreadableAndMovedAside() throws Exception {
    Path file = dir.resolve("ledger.json");
    for (String shmid : List.of("\"five\"", "4294967296")) {
      Files.writeString(
          file, "{\"version\":1,\"entries\":[{\"ipcNamespace\":1,\"shmid\":" + shmid + "}]}");
      Ledger ledger = Ledger.open(file);
      assertThat(ledger.size()).as(shmid).isZero();
      assertThat(ledger.loadProblem()).as(shmid).contains("unreadable", "moved to");
    }
  }

  @Test
  void aLedgerThatBecomesUnreadableBeforeASaveIsMovedAsideToo() throws Exception {
    Path file = dir.resolve("ledger.json");
    Ledger ledger = Ledger.open(file);
    ledger.record(seg(5, 100), new PodInfo("uid-1", null, null, null, null), Instant.EPOCH);
    ledger.save();
    Files.writeString(file, "garbage");

    ledger.record(seg(6, 100), new PodInfo("uid-2", null, null, null, null), Instant.EPOCH);
    ledger.save();

    try (Stream<Path> files = Files.list(dir)) {
      assertThat(
              files.filter(p -> p.getFileName().toString().startsWith("ledger.json.unreadable-")))
          .singleElement()
          .satisfies(p -> assertThat(Files.readString(p)).isEqualTo("garbage"));
    }
    assertThat(ledger.loadProblem()).contains("moved to");
    assertThat(Ledger.open(file).size()).isEqualTo(2);
  }

  @Test
  void twoWritersOfOneFileKeepEachOthersEntries() throws Exception {
    Path file = dir.resolve("state/ledger.json");
    Ledger serve = Ledger.open(file);
    Ledger reapRun =
        Ledger.open(file); // opened before either saved: each starts from the same empty file
    int perWriter = 40;
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<?>> done =
          List.of(
              pool.submit(() -> write(serve, 1000, perWriter)),
              pool.submit(() -> write(reapRun, 2000, perWriter)));
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    Ledger after = Ledger.open(file);
    assertThat(after.loadProblem()).isNull();
    assertThat(after.size()).isEqualTo(2 * perWriter);
    assertThat(after.lookup(seg(1000, 100))).isNotNull();
    assertThat(after.lookup(seg(2000 + perWriter - 1, 100))).isNotNull();
  }

  @Test
  void aDropIsNotUndoneByTheMergeWithTheFile() throws Exception {
    Path file = dir.resolve("ledger.json");
    Ledger ledger = Ledger.open(file);
    ledger.record(seg(5, 100), new PodInfo("uid-1", null, null, null, null), Instant.EPOCH);
    ledger.record(seg(6, 100), new PodInfo("uid-1", null, null, null, null), Instant.EPOCH);
    ledger.save();

    ledger.retainOnly(1, List.of(seg(6, 100)));
    ledger.save();

    Ledger again = Ledger.open(file);
    assertThat(again.lookup(seg(5, 100))).isNull();
    assertThat(again.lookup(seg(6, 100))).isNotNull();
  }

  static Void write(Ledger ledger, int firstShmid, int count) throws Exception {
    for (int i = 0; i < count; i++) {
      ledger.record(
          seg(firstShmid + i, 100),
          new PodInfo("uid-" + firstShmid, null, null, null, null),
          Instant.EPOCH);
      ledger.save();
    }
    return null;
  }

  @Test
  void retainOnlyDropsVanishedSegmentsOfThatNamespace() {
    Ledger ledger = Ledger.inMemory();
    ledger.record(seg(5, 100), new PodInfo("uid-1", null, null, null, null), Instant.EPOCH);
    ledger.record(seg(6, 100), new PodInfo("uid-1", null, null, null, null), Instant.EPOCH);
    ledger.retainOnly(1, List.of(seg(6, 100)));
    assertThat(ledger.size()).isEqualTo(1);
    assertThat(ledger.lookup(seg(6, 100))).isNotNull();
  }
}
