package dev.sharedipc.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sharedipc.api.RepoPaths;
import dev.sharedipc.api.testing.RealApiServer;
import io.fabric8.kubernetes.client.VersionInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * deploy/ and the chart (default values) pass kube-score, a third-party manifest linter built from
 * its Go module by scripts/kube-score.sh: every CRITICAL finding is either fixed or accepted by the
 * workload's own {@code kube-score/ignore} annotation, with a comment beside it, and by a row of
 * the table in docs/security.md ("What kube-score says") naming the check, the container and the
 * finding. The table and the annotations cannot drift apart: an ignore nothing needs, a row nothing
 * needs and an ignored check the table does not list all fail.
 */
class ManifestLintIT {
  static final String SECURITY_MD = "docs/security.md";
  static final String SECTION = "## What kube-score says";
  static final String IGNORE = "kube-score/ignore";

  private static RealApiServer api;
  private static Path kubeScore;
  private static String kubeVersion;
  private static Path work;

  /** Source name to its rendered manifests. */
  private static final Map<String, Path> RENDERS = new TreeMap<>();

  @BeforeAll
  static void renderAndBuild() throws IOException, InterruptedException {
    kubeScore = ensureKubeScore();
    api = RealApiServer.shared();
    Path helm = HelmChartIT.ensureHelm();
    VersionInfo version = api.client().getKubernetesVersion();
    kubeVersion = "v" + version.getMajor() + "." + version.getMinor().replaceAll("\\D", "");
    work = RepoPaths.root().resolve("operator/target/manifest-lint");
    Files.createDirectories(work);
    RENDERS.put(
        "deploy/",
        write(
            "deploy.yaml",
            run(List.of(api.kubectl().toString(), "kustomize", root("deploy").toString()))));
    RENDERS.put(
        "the chart",
        write(
            "chart.yaml",
            run(
                List.of(
                    helm.toString(),
                    "template",
                    HelmChartIT.RELEASE,
                    root(HelmChartIT.CHART).toString(),
                    "--namespace",
                    HelmChartIT.NAMESPACE,
                    "--kube-version",
                    kubeVersion))));
  }

  @Test
  void everyCriticalFindingIsIgnoredByItsObjectAndListedInSecurityMd() throws Exception {
    List<Row> rows = securityMdRows();
    List<String> problems = new ArrayList<>();
    for (Map.Entry<String, Path> render : RENDERS.entrySet()) {
      for (Finding f : criticalFindings(render.getValue())) {
        String where = render.getKey() + ": " + f;
        // The check's own id, exactly: kube-score counts an ignored container-resources as an
        // ignored ephemeral-storage check too, which would hide a missing ephemeral-storage limit.
        if (!f.ignored().contains(f.check())) {
          problems.add(
              where
                  + ": fix it, or add "
                  + f.check()
                  + " to the object's "
                  + IGNORE
                  + " annotation with a comment saying why");
        }
        boolean listed =
            rows.stream()
                .anyMatch(
                    r ->
                        r.check().equals(f.check())
                            && r.where().contains("`" + f.object() + "`")
                            && (f.container().isEmpty()
                                || r.where().contains("`" + f.container() + "`"))
                            && r.finding().contains(f.summary()));
        if (!listed) {
          problems.add(
              where
                  + ": no row of the table under '"
                  + SECTION
                  + "' in "
                  + SECURITY_MD
                  + " names this check, object, container and finding");
        }
      }
    }
    assertThat(problems).as("kube-score CRITICAL findings not justified").isEmpty();
  }

  @Test
  void everyIgnoreHidesACriticalFindingAndIsListedInSecurityMd() throws Exception {
    Set<String> documented = new TreeSet<>();
    securityMdRows().forEach(r -> documented.add(r.check()));
    Set<String> ignoredAnywhere = new TreeSet<>();
    List<String> problems = new ArrayList<>();
    for (Map.Entry<String, Path> render : RENDERS.entrySet()) {
      List<Finding> findings = criticalFindings(render.getValue());
      for (JsonNode object : score(render.getValue())) {
        String name = object.path("object_meta").path("name").asText();
        for (String check : ignoredChecks(object)) {
          ignoredAnywhere.add(check);
          if (findings.stream()
              .noneMatch(f -> f.object().equals(name) && f.check().equals(check))) {
            problems.add(
                render.getKey()
                    + ": "
                    + name
                    + " ignores "
                    + check
                    + ", which finds nothing CRITICAL there: remove it from the annotation");
          }
        }
      }
    }
    assertThat(problems).as("stale kube-score ignores").isEmpty();
    assertThat(documented)
        .as(
            "checks listed under '%s' in %s vs the checks the manifests' %s annotations name",
            SECTION, SECURITY_MD, IGNORE)
        .isEqualTo(ignoredAnywhere);
  }

  @Test
  void kubeScoreHonouringTheAnnotationsFindsNothingCritical() throws Exception {
    for (Map.Entry<String, Path> render : RENDERS.entrySet()) {
      HelmChartIT.Result r = kubeScore(render.getValue(), "--output-format", "ci");
      assertThat(r.out().lines().filter(l -> l.startsWith("[CRITICAL]")).toList())
          .as(
              "kube-score score %s (%s):\n%s%s",
              render.getValue(), render.getKey(), r.out(), r.err())
          .isEmpty();
      assertThat(r.exit())
          .as("kube-score exit code for %s:\n%s", render.getKey(), r.err())
          .isZero();
    }
  }

  @Test
  void everyIgnoreAnnotationHasACommentNamingEachCheckItIgnores() throws IOException {
    List<Path> files = new ArrayList<>();
    for (String dir : List.of("deploy", HelmChartIT.CHART + "/templates")) {
      try (Stream<Path> walk = Files.walk(root(dir))) {
        walk.filter(p -> p.toString().endsWith(".yaml")).forEach(files::add);
      }
    }
    int annotations = 0;
    for (Path file : files) {
      List<String> lines = Files.readAllLines(file);
      for (int i = 0; i < lines.size(); i++) {
        String line = lines.get(i).strip();
        if (!line.startsWith(IGNORE + ":")) {
          continue;
        }
        annotations++;
        StringBuilder comment = new StringBuilder();
        for (int j = i - 1; j >= 0 && lines.get(j).strip().startsWith("#"); j--) {
          comment.insert(0, lines.get(j) + "\n");
        }
        for (String check : line.substring(IGNORE.length() + 1).strip().split(",")) {
          assertThat(comment.toString())
              .as(
                  "%s:%d ignores %s: the comment right above it must name it and say why",
                  RepoPaths.root().relativize(file), i + 1, check.strip())
              .contains(check.strip());
        }
      }
    }
    // The operator's Deployment and the agent's DaemonSet, in deploy/ and in the chart.
    assertThat(annotations).isEqualTo(4);
  }

  // ---- kube-score -------------------------------------------------------------------------------

  /** A CRITICAL problem kube-score reports on one object (and container, if any). */
  record Finding(
      String kind,
      String object,
      String container,
      String check,
      String summary,
      Set<String> ignored) {
    @Override
    public String toString() {
      return kind
          + " "
          + object
          + (container.isEmpty() ? "" : " container " + container)
          + ": "
          + check
          + " \""
          + summary
          + "\"";
    }
  }

  /** Every CRITICAL finding, as if no object carried an ignore annotation. */
  private static List<Finding> criticalFindings(Path manifests) throws Exception {
    List<Finding> findings = new ArrayList<>();
    for (JsonNode object : score(manifests, "--disable-ignore-checks-annotations")) {
      Set<String> ignored = ignoredChecks(object);
      for (JsonNode check : object.path("checks")) {
        if (check.path("grade").asInt() != 1 || check.path("skipped").asBoolean()) {
          continue;
        }
        for (JsonNode comment : check.path("comments")) {
          findings.add(
              new Finding(
                  object.path("type_meta").path("kind").asText(),
                  object.path("object_meta").path("name").asText(),
                  comment.path("path").asText(""),
                  check.path("check").path("id").asText(),
                  comment.path("summary").asText(),
                  ignored));
        }
      }
    }
    return findings;
  }

  private static Set<String> ignoredChecks(JsonNode object) {
    String csv = object.path("object_meta").path("annotations").path(IGNORE).asText("");
    Set<String> checks = new LinkedHashSet<>();
    Arrays.stream(csv.split(",")).map(String::strip).filter(s -> !s.isEmpty()).forEach(checks::add);
    return checks;
  }

  private static List<JsonNode> score(Path manifests, String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("--output-format", "json"));
    args.addAll(List.of(extra));
    HelmChartIT.Result r = kubeScore(manifests, args.toArray(String[]::new));
    // 1: it found something CRITICAL; anything else but 0 is a failure of the tool.
    assertThat(r.exit()).as("kube-score on %s:\n%s", manifests, r.err()).isIn(0, 1);
    List<JsonNode> objects = new ArrayList<>();
    new ObjectMapper().readTree(r.out()).forEach(objects::add);
    assertThat(objects).as("objects kube-score scored in %s", manifests).isNotEmpty();
    return objects;
  }

  private static HelmChartIT.Result kubeScore(Path manifests, String... extra)
      throws IOException, InterruptedException {
    List<String> command =
        new ArrayList<>(
            List.of(kubeScore.toString(), "score", "--kubernetes-version", kubeVersion));
    command.addAll(List.of(extra));
    command.add(manifests.toString());
    return HelmChartIT.run(command);
  }

  /**
   * The kube-score binary: scripts/kube-score.sh builds it from its Go module when the cache has
   * none. Without a Go toolchain the lint is skipped, but never under CI=true.
   */
  static Path ensureKubeScore() throws IOException, InterruptedException {
    Path script = root("scripts/kube-score.sh");
    boolean ci = "true".equalsIgnoreCase(System.getenv("CI"));
    HelmChartIT.Result path = HelmChartIT.run(List.of("bash", script.toString(), "path"));
    assertThat(path.exit()).as("%s path: %s", script, path.err()).isZero();
    Path binary = Path.of(path.out().strip());
    if (!Files.isExecutable(binary)
        && !ci
        && HelmChartIT.run(List.of("bash", "-c", "command -v go")).exit() != 0) {
      String reason =
          "no Go toolchain on PATH: "
              + script
              + " builds kube-score from its Go module (install Go 1.23 or later to run the lint)";
      // Surefire shows a class aborted in @BeforeAll as 0 tests run, without the reason.
      System.err.println("[sharedipc] ManifestLintIT skipped: " + reason);
      Assumptions.abort(reason);
    }
    System.err.println(
        "[sharedipc] " + script + " ensure (builds kube-score if " + binary + " is missing)");
    Process ensure = new ProcessBuilder("bash", script.toString(), "ensure").inheritIO().start();
    if (!ensure.waitFor(30, TimeUnit.MINUTES)) {
      ensure.destroyForcibly();
      throw new IllegalStateException(script + " ensure did not finish within 30 minutes");
    }
    assertThat(ensure.exitValue()).as("%s ensure exit code (its output is above)", script).isZero();
    return binary;
  }

  // ---- docs/security.md -------------------------------------------------------------------------

  /** A row of the table: check, where (objects and containers in backticks), finding, why. */
  record Row(String check, String where, String finding) {}

  private static final Pattern ROW = Pattern.compile("^\\|\\s*`([a-z0-9-]+)`\\s*\\|(.*)$");

  private static List<Row> securityMdRows() throws IOException {
    List<String> lines = Files.readAllLines(root(SECURITY_MD));
    int start = lines.indexOf(SECTION);
    assertThat(start).as("section '%s' in %s", SECTION, SECURITY_MD).isNotNegative();
    List<Row> rows = new ArrayList<>();
    for (String line : lines.subList(start + 1, lines.size())) {
      if (line.startsWith("## ")) {
        break;
      }
      Matcher m = ROW.matcher(line);
      if (m.matches()) {
        String[] cells = m.group(2).split("\\|");
        assertThat(cells).as("cells of %s", line).hasSizeGreaterThanOrEqualTo(3);
        rows.add(new Row(m.group(1), cells[0], cells[1]));
      }
    }
    assertThat(rows).as("rows of the table under '%s' in %s", SECTION, SECURITY_MD).isNotEmpty();
    return rows;
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private static Path root(String path) {
    return RepoPaths.root().resolve(path);
  }

  private static Path write(String name, String yaml) throws IOException {
    Path file = work.resolve(name);
    Files.writeString(file, yaml);
    return file;
  }

  private static String run(List<String> command) throws IOException, InterruptedException {
    HelmChartIT.Result r = HelmChartIT.run(command);
    assertThat(r.exit()).as("%s\n%s", String.join(" ", command), r.err()).isZero();
    return r.out();
  }
}
