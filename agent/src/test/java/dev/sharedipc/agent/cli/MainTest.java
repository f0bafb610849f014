package dev.sharedipc.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class MainTest {
  record Run(int code, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Main.commandLine();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int code = cl.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void verboseAnywhereBeforeTheEndOfOptionsLogsDebugElseTheEnvironmentSays() {
    assertThat(Main.logLevel(new String[] {"serve", "-v", "--offline"}, "warn")).isEqualTo("debug");
    assertThat(Main.logLevel(new String[] {"--verbose", "scan"}, null)).isEqualTo("debug");
    assertThat(Main.logLevel(new String[] {"scan", "--", "-v"}, null)).isNull();
    assertThat(Main.logLevel(new String[] {"scan"}, " WARN ")).isEqualTo("warn");
    assertThat(Main.logLevel(new String[] {"scan"}, "")).isNull();
  }

  @Test
  void helpListsTheCommandsAndSaysWhatTheyAreFor() {
    Run r = run("--help");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("scan", "reap", "serve", "IPC namespace", "stderr");
  }

  @Test
  void reapHelpExplainsTheSafetyRulesAndOptions() {
    Run r = run("reap", "--help");
    assertThat(r.out())
        .contains(
            "--dry-run",
            "--policy",
            "--grace",
            "--proc-root",
            "--json",
            "never",
            "IPC_RMID",
            "Examples");
  }

  @Test
  void aBadDurationIsAUsageErrorThatSaysWhatToWrite() {
    Run r = run("reap", "--dry-run", "--grace", "ten minutes", "--proc-root", "/nonexistent-proc");
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains("10m");
  }

  @Test
  void anUnknownPolicyIsRejected() {
    Run r = run("reap", "--policy", "Destroy");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("Delete", "Report");
  }

  @Test
  void anErrorIsOneLineAndAHintNeverTheWholeUsage() {
    Run r = run("scan", "--kind", "everything");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).doesNotContain("Usage:").doesNotContain("--csi-state-dir");
    assertThat(r.err().lines().toList())
        .hasSize(2)
        .satisfies(
            lines -> {
              assertThat(lines.get(0))
                  .startsWith("sharedipc-agent scan: error: unknown --kind 'everything'")
                  .contains("segments");
              assertThat(lines.get(1))
                  .isEqualTo("Try 'sharedipc-agent scan --help' for its options.");
            });
  }
}
