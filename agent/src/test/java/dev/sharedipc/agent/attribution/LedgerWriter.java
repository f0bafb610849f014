package dev.sharedipc.agent.attribution;

import dev.sharedipc.agent.scan.Segment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/**
 * A second process writing a ledger, for {@link LedgerIT}: opens the ledger, says "opened", waits
 * for a start file, then records and saves {@code count} entries one by one, as a {@code reap} run
 * beside the daemon would.
 */
public final class LedgerWriter {
  private LedgerWriter() {}

  public static void main(String[] args) throws Exception {
    Path ledgerFile = Path.of(args[0]);
    int first = Integer.parseInt(args[1]);
    int count = Integer.parseInt(args[2]);
    Path start = Path.of(args[3]);
    Ledger ledger = Ledger.open(ledgerFile);
    System.out.println("opened");
    System.out.flush();
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (!Files.exists(start)) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("no start file " + start + " within 60s");
      }
      Thread.sleep(5);
    }
    for (int i = 0; i < count; i++) {
      Segment s =
          new Segment(1, 0x42, first + i, 0600, 4096, 10, 10, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0);
      ledger.record(s, new PodInfo("uid-" + first, null, null, null, null), Instant.EPOCH);
      ledger.save();
    }
    System.out.println("saved " + count);
  }
}
