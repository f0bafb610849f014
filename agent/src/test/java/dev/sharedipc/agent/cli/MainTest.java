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
  void anErrorIsOneLineWithItsHintNeverTheWholeUsage() {
    Run r = run("scan", "--kind", "everything");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).doesNotContain("Usage:").doesNotContain("--csi-state-dir");
    assertThat(r.err().lines().toList())
        .singleElement()
        .satisfies(
            line ->
                assertThat(line)
                    .startsWith("sharedipc-agent scan: error: unknown --kind 'everything'")
                    .contains("segments")
                    .endsWith("; see 'sharedipc-agent scan --help'"));
  }

  @Test
  void aMisspeltCommandOrOptionNamesTheClosestOne() {
    Run command = run("scna");
    assertThat(command.code()).isEqualTo(2);
    assertThat(command.err().strip())
        .isEqualTo(
            "sharedipc-agent: error: Unmatched argument at index 0: 'scna' (did you mean scan?);"
                + " see 'sharedipc-agent --help'");
    Run option = run("scan", "--jsn");
    assertThat(option.code()).isEqualTo(2);
    assertThat(option.err().strip())
        .startsWith("sharedipc-agent scan: error: Unknown option: '--jsn' (did you mean --json?)");
  }
}
