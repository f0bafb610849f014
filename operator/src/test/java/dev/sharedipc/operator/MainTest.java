package dev.sharedipc.operator;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The operator's command line on input a user can get wrong: one line saying what to do, no stack
 * trace.
 */
class MainTest {
  @Test
  void aPortInUseIsSaidInOneLineWithExitCodeOne(@TempDir Path dir) throws IOException {
    // A kubeconfig to an address where nothing listens: the HTTP endpoints bind before any API
    // call.
    Path kubeconfig =
        Files.writeString(
            dir.resolve("kubeconfig"),
            """
        apiVersion: v1
        kind: Config
        clusters: [{name: c, cluster: {server: "https://127.0.0.1:9"}}]
        users: [{name: u, user: {token: t}}]
        contexts: [{name: x, context: {cluster: c, user: u}}]
        current-context: x
        """);
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      StringWriter err = new StringWriter();
      int exit =
          Main.commandLine()
              .setErr(new PrintWriter(err, true))
              .execute(
                  "--kubeconfig",
                  kubeconfig.toString(),
                  "--http-address",
                  "127.0.0.1",
                  "--http-port",
                  String.valueOf(taken.getLocalPort()),
                  "--leader-election=false");
      assertThat(exit).isEqualTo(1);
      assertThat(err.toString())
          .startsWith(
              "sharedipc-operator: cannot serve /healthz, /readyz and /metrics on 127.0.0.1:"
                  + taken.getLocalPort())
          .contains("--http-port")
          .doesNotContain("Exception")
          .doesNotContain("\tat ");
    }
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "--helpp|sharedipc-operator: Unknown option: '--helpp' (did you mean --help?)",
        "rendr|sharedipc-operator: Unmatched argument at index 0: 'rendr' (did you mean render?)",
        "render -f x --namespac y|sharedipc-operator render: Unknown options: '--namespac', 'y' (did you mean --namespace?)",
        "run --http-port many|sharedipc-operator run: Invalid value for option '--http-port'"
      })
  void aUsageErrorIsOneLineWithTheClosestChoiceAndExitCodeTwo(String args, String expected) {
    StringWriter err = new StringWriter();
    StringWriter out = new StringWriter();
    int exit =
        Main.commandLine()
            .setErr(new PrintWriter(err, true))
            .setOut(new PrintWriter(out, true))
            .execute(args.split(" "));
    assertThat(exit).isEqualTo(2);
    assertThat(err.toString()).startsWith(expected).endsWith("--help'" + System.lineSeparator());
    assertThat(err.toString().lines()).as("lines of %s", err).hasSize(1);
    assertThat(out.toString()).isEmpty();
  }
}
