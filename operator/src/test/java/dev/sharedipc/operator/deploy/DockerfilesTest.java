package dev.sharedipc.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.api.RepoPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The images cannot be built here (no Docker), so their Dockerfiles are checked as text: every file
 * copied from the build context (the repository root) exists, the build stage builds the module
 * whose jar the image copies, that jar is the one the module's pom makes, and the image starts it.
 */
class DockerfilesTest {
  private static final Path ROOT = RepoPaths.root();

  /** One instruction, continuation lines joined. */
  record Instruction(String keyword, String args) {}

  static List<Instruction> parse(Path dockerfile) throws IOException {
    List<Instruction> out = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : Files.readAllLines(dockerfile)) {
      String t = line.strip();
      if (current.isEmpty() && (t.isEmpty() || t.startsWith("#"))) {
        continue;
      }
      if (t.endsWith("\\")) {
        current.append(t, 0, t.length() - 1).append(' ');
        continue;
      }
      current.append(t);
      String s = current.toString().strip();
      int space = s.indexOf(' ');
      out.add(new Instruction(s.substring(0, space).toUpperCase(), s.substring(space + 1).strip()));
      current.setLength(0);
    }
    return out;
  }

  @ParameterizedTest
  @ValueSource(strings = {"operator", "agent"})
  void everyCopiedFileExistsAndTheImageRunsTheJarTheBuildMakes(String module) throws IOException {
    Path dockerfile = ROOT.resolve(module).resolve("Dockerfile");
    List<Instruction> instructions = parse(dockerfile);
    String jarName = finalName(ROOT.resolve(module).resolve("pom.xml")) + ".jar";
    String builtJar = "/src/" + module + "/target/" + jarName;

    List<String> fromBuild = new ArrayList<>();
    for (Instruction i : instructions) {
      if (!i.keyword().equals("COPY")) {
        continue;
      }
      List<String> words = new ArrayList<>(Arrays.asList(i.args().split("\\s+")));
      boolean fromStage = words.stream().anyMatch(w -> w.startsWith("--from="));
      words.removeIf(w -> w.startsWith("--"));
      List<String> sources = words.subList(0, words.size() - 1);
      if (fromStage) {
        fromBuild.addAll(sources);
      } else {
        assertThat(sources)
            .as("COPY %s in %s", i.args(), dockerfile)
            .allSatisfy(
                src -> assertThat(ROOT.resolve(src)).as("build-context file %s", src).exists());
      }
    }
    List<String> builtJars = new ArrayList<>(List.of(builtJar));
    // further jars the build writes (the agent's CSI libraries: a shade execution's outputFile)
    for (String extra : outputFiles(ROOT.resolve(module).resolve("pom.xml"))) {
      builtJars.add("/src/" + module + "/target/" + extra);
    }
    assertThat(fromBuild)
        .as("what the runtime stage takes from the build stage")
        .containsExactlyInAnyOrderElementsOf(builtJars);

    List<String> runs =
        instructions.stream()
            .filter(i -> i.keyword().equals("RUN"))
            .map(Instruction::args)
            .toList();
    assertThat(runs)
        .anySatisfy(
            r -> assertThat(r).contains("./mvnw").contains("-pl " + module + " -am package"));
    assertThat(ROOT.resolve("mvnw")).isExecutable();

    List<String> images =
        instructions.stream()
            .filter(i -> i.keyword().equals("FROM"))
            .map(i -> i.args().split("\\s+")[0])
            .toList();
    assertThat(images)
        .hasSize(2)
        .allSatisfy(image -> assertThat(image).matches("[a-z0-9./-]+:17-[a-z0-9.-]+"));

    String entry =
        instructions.stream()
            .filter(i -> i.keyword().equals("ENTRYPOINT"))
            .map(Instruction::args)
            .reduce((a, b) -> b)
            .orElseThrow();
    String installedJar = "/opt/sharedipc/" + jarName;
    assertThat(
            String.join(
                " ",
                instructions.stream()
                    .filter(i -> i.keyword().equals("COPY"))
                    .map(Instruction::args)
                    .toList()))
        .contains(builtJar + " " + installedJar);
    if (module.equals("agent")) {
      // the launcher script, which looks for the jar in /opt/sharedipc among other places
      assertThat(entry).contains("/usr/local/bin/sharedipc-agent");
      assertThat(Files.readString(ROOT.resolve("agent/bin/sharedipc-agent")))
          .contains(installedJar);
    } else {
      assertThat(entry).contains("\"-jar\", \"" + installedJar + "\"");
      assertThat(instructions)
          .anySatisfy(i -> assertThat(i.keyword() + " " + i.args()).isEqualTo("USER 65532:65532"));
    }
  }

  /**
   * Options on the java command line override JAVA_TOOL_OPTIONS: an image that set its own heap
   * percentage would run every Deployment with it, whatever deploy/ and the chart say.
   */
  @Test
  void theOperatorImageRunsTheJvmSettingsOfDeployAndTheChart() throws IOException {
    List<Instruction> instructions = parse(ROOT.resolve("operator/Dockerfile"));
    String entry =
        instructions.stream()
            .filter(i -> i.keyword().equals("ENTRYPOINT"))
            .map(Instruction::args)
            .reduce((a, b) -> b)
            .orElseThrow();
    assertThat(entry).isEqualTo("[\"java\", \"-jar\", \"/opt/sharedipc/sharedipc-operator.jar\"]");
    String deployed =
        quoted(
            Files.readString(ROOT.resolve("deploy/operator-deployment.yaml")),
            "name: JAVA_TOOL_OPTIONS\\s+value: ");
    assertThat(deployed).contains("-XX:MaxRAMPercentage=").contains("-XX:+UseSerialGC");
    assertThat(instructions)
        .anySatisfy(
            i ->
                assertThat(i.keyword() + " " + i.args())
                    .isEqualTo("ENV JAVA_TOOL_OPTIONS=\"" + deployed + "\""));
    assertThat(
            quoted(
                Files.readString(ROOT.resolve("charts/sharedipc/values.yaml")),
                "javaToolOptions: "))
        .isEqualTo(deployed);
  }

  /** The double-quoted value that follows the first match of {@code prefix} (a regex). */
  private static String quoted(String text, String prefix) {
    Matcher m = Pattern.compile(prefix + "\"([^\"]*)\"").matcher(text);
    assertThat(m.find()).as("a quoted value after /%s/", prefix).isTrue();
    return m.group(1);
  }

  /** The files named by {@code <outputFile>${project.build.directory}/NAME</outputFile>}. */
  static List<String> outputFiles(Path pom) throws IOException {
    Matcher m =
        Pattern.compile("<outputFile>\\$\\{project\\.build\\.directory\\}/([^<]+)</outputFile>")
            .matcher(Files.readString(pom));
    List<String> names = new ArrayList<>();
    while (m.find()) {
      names.add(m.group(1).strip());
    }
    return names;
  }

  static String finalName(Path pom) throws IOException {
    Matcher m = Pattern.compile("<finalName>([^<]+)</finalName>").matcher(Files.readString(pom));
    assertThat(m.find()).as("%s names its jar with <finalName>", pom).isTrue();
    return m.group(1).strip();
  }
}
