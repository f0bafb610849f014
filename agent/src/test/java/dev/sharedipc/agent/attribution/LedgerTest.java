package dev.sharedipc.agent.attribution;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.agent.scan.Segment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LedgerTest {
  @TempDir Path dir;

  static Segment seg(int shmid, long ctime) {
    return new Segment(1, 0x42, shmid, 0600, 4096, 10, 10, 0, 0, 0, 0, 0, 0, 0, ctime, 0, 0);
  }

  @Test
  void survivesARestartAndMatchesOnlyTheSameSegment() throws Exception {
    Path file = dir.resolve("state/ledger.json");
    Ledger ledger = Ledger.open(file);
    ledger.record(seg(5, 100), new PodInfo("uid-1", "ns", "pod", "g", 0), Instant.EPOCH);
    ledger.save();

    Ledger again = Ledger.open(file);
    assertThat(again.lookup(seg(5, 100))).isEqualTo(new PodInfo("uid-1", "ns", "pod", "g", 0));
    assertThat(again.lookup(seg(5, 101))).as("same id and key, new ctime: a different segment").isNull();
    assertThat(again.lookup(seg(6, 100))).isNull();
  }

  @Test
  void aLaterSightingWithoutPodDetailsKeepsWhatWasKnown() {
    Ledger ledger = Ledger.inMemory();
    ledger.record(seg(5, 100), new PodInfo("uid-1", "ns", "pod", "g", 0), Instant.EPOCH);
    ledger.record(seg(5, 100), new PodInfo("uid-1", null, null, null, null), Instant.EPOCH);
    assertThat(ledger.lookup(seg(5, 100)).group()).isEqualTo("g");
  }

  @Test
  void anUnreadableLedgerStartsEmptyAndSaysSo() throws Exception {
    Path file = dir.resolve("ledger.json");
    Files.writeString(file, "{not json");
    Ledger ledger = Ledger.open(file);
    assertThat(ledger.size()).isZero();
    assertThat(ledger.loadProblem()).contains("unreadable").contains("kept, not removed");
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
