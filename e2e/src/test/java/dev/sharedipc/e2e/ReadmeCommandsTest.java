package dev.sharedipc.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sharedipc.e2e.harness.Commands;
import dev.sharedipc.e2e.harness.Repo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The README cannot drift from the repository: every command it gives names a program the
 * repository has, executable, and the cheap ones (no cluster, no build) run here verbatim as the
 * README writes them, each first looked up in the README. The expensive ones ({@code ./demo.sh},
 * {@code ./mvnw verify}, the benchmarks) are only checked to exist here.
 */
class ReadmeCommandsTest {
  private static final Path ROOT = Repo.root();

  /** Inline code spans and the lines of fenced code blocks that start with a repository path. */
  private static final Pattern SPAN = Pattern.compile("`([^`\\n]+)`");

  private static final Pattern REPO_PROGRAM =
      Pattern.compile("^(\\./[\\w.-]+|(?:bin|scripts|e2e|agent/bench|agent/bin)/[\\w./-]+)");

  @Test
  void everyProgramTheReadmeRunsIsInTheRepositoryAndExecutable() throws IOException {
    Set<String> programs = new LinkedHashSet<>();
    for (String command : commands()) {
      Matcher m = REPO_PROGRAM.matcher(command);
      // A program: a path run with arguments, or a script or launcher named alone (a path without
      // either, like a directory or a state file, is prose).
      if (m.find()
          && !m.group(1).endsWith("/")
          && (command.length() > m.end()
              || m.group(1).endsWith(".sh")
              || m.group(1).startsWith("./")
              || m.group(1).startsWith("bin/"))) {
        programs.add(m.group(1));
      }
    }
    assertThat(programs)
        .as("programs the README runs")
        .contains("./demo.sh", "./mvnw", "bin/sharedipc-operator", "bin/sharedipc-agent");
    List<String> broken = new ArrayList<>();
    for (String program : programs) {
      Path file = ROOT.resolve(program);
      if (!Files.isRegularFile(file) || !Files.isExecutable(file)) {
        broken.add(program + (Files.exists(file) ? " (not executable)" : " (missing)"));
      }
    }
    assertThat(broken).as("commands in README.md that name no executable file").isEmpty();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "bin/sharedipc-operator --help",
        "bin/sharedipc-agent --help",
        "bin/kubectl-sharedipc --help",
        "scripts/local-cluster.sh --help",
        "scripts/images.sh --help",
      })
  void everyProgramAnswersHelpAtOnce(String command) throws IOException {
    String program = command.split(" ")[0];
    assertThat(readme()).as("README.md names %s", program).contains(program);
    Commands.Result r = bash(command);
    assertThat(r.exitCode()).as("exit code of %s: %s", command, r.output()).isZero();
    assertThat(r.output()).as("%s", command).containsIgnoringCase("usage");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "bin/sharedipc-operator rendr|did you mean render?",
        "bin/kubectl-sharedipc topp|did you mean top?",
        "scripts/local-cluster.sh upp|did you mean up?",
        "scripts/local-cluster.sh up --nodez 3|did you mean --nodes?",
        "scripts/images.sh buld|did you mean build?",
        "scripts/kube-binaries.sh ensur|did you mean ensure?",
        "scripts/real-node.sh strt|did you mean start?",
        "./demo.sh --kep|did you mean --keep?",
        "e2e/scale-benchmark.sh --group 3|did you mean --groups?",
      })
  void aMisspeltCommandOrOptionIsOneLineWithTheClosestChoiceAndExitCodeTwo(
      String command, String guess) {
    Commands.Result r = bash(command);
    assertThat(r.exitCode()).as("exit code of %s: %s", command, r.output()).isEqualTo(2);
    assertThat(r.output().lines()).as("output of %s", command).hasSize(1);
    assertThat(r.output()).contains(guess).contains("--help'");
  }

  @Test
  void renderPrintsTheSamplesPods() throws IOException {
    String command = "bin/sharedipc-operator render -f samples/market-data-samepod.yaml";
    assertThat(commands()).as("README.md gives `%s`", command).contains(command);
    Commands.Result r = bash(command);
    assertThat(r.exitCode()).as("exit code: %s", r.output()).isZero();
    assertThat(r.output()).containsPattern("kind: \"?Pod\"?").contains("# MemoryAccounted=True");
  }

  @Test
  void agentScanListsThisHostsIpcNamespaces() throws IOException {
    String command = "bin/sharedipc-agent scan";
    assertThat(commands()).as("README.md gives `%s`", command).contains(command);
    assumeTrue(
        "root".equals(System.getProperty("user.name")),
        "bin/sharedipc-agent scan joins IPC namespaces: it needs root");
    Commands.Result r = bash(command);
    assertThat(r.exitCode()).as("exit code: %s", r.output()).isZero();
    assertThat(r.output()).as("the scan's tables").contains("Shared memory segments");
  }

  private static Commands.Result bash(String command) {
    return Commands.run(
        List.of("bash", "-c", command),
        Map.of(),
        ROOT.resolve("e2e/target/readme-commands.log"),
        false,
        Duration.ofMinutes(10),
        ROOT);
  }

  private static String readme() throws IOException {
    return Files.readString(ROOT.resolve("README.md"));
  }

  /** The README's commands: its code spans and code-block lines, comments cut off. */
  static List<String> commands() throws IOException {
    List<String> found = new ArrayList<>();
    boolean inBlock = false;
    for (String line : readme().lines().toList()) {
      if (line.startsWith("```")) {
        inBlock = !inBlock;
        continue;
      }
      if (inBlock) {
        found.add(line.replaceFirst("\\s+#.*$", "").strip());
        continue;
      }
      Matcher m = SPAN.matcher(line);
      while (m.find()) {
        found.add(m.group(1).strip());
      }
    }
    return found;
  }
}
