package dev.sharedipc.agent.attribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two real processes (two JVMs, as the daemon and a {@code reap} run are) writing one ledger at
 * once: the file lock serializes their saves and each save keeps the other's entries.
 */
class LedgerIT {
  @TempDir Path dir;
  final List<Process> started = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (Process p : started) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void twoProcessesWritingTheSameLedgerLoseNothing() throws Exception {
    Path ledger = dir.resolve("state/ledger.json");
    Path go = dir.resolve("go");
    int perWriter = 60;
    List<BufferedReader> outputs = new ArrayList<>();
    for (int first : new int[] {1000, 2000}) {
      Process p =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-cp",
                  System.getProperty("java.class.path"),
                  LedgerWriter.class.getName(),
                  ledger.toString(),
                  Integer.toString(first),
                  Integer.toString(perWriter),
                  go.toString())
              .redirectErrorStream(true)
              .start();
      started.add(p);
      outputs.add(
          new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)));
    }
    for (BufferedReader out : outputs) {
      // both opened the (then absent) ledger before either writes: without the lock and merge, one
      // overwrites the other
      String line = out.readLine();
      while (line != null && !line.equals("opened")) {
        line = out.readLine(); // a logging backend may print first
      }
      assertThat(line).isEqualTo("opened");
    }
    Files.createFile(go);
    for (int i = 0; i < started.size(); i++) {
      Process p = started.get(i);
      String rest = String.join("\n", outputs.get(i).lines().toList());
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("writer %d finished", i).isTrue();
      assertThat(p.exitValue()).as("writer %d exit; output: %s", i, rest).isZero();
      assertThat(rest).contains("saved " + perWriter);
    }

    Ledger after = Ledger.open(ledger);
    assertThat(after.loadProblem()).isNull();
    assertThat(after.size()).isEqualTo(2 * perWriter);
    assertThat(Files.exists(dir.resolve("state/ledger.json.lock"))).isTrue();
  }
}
