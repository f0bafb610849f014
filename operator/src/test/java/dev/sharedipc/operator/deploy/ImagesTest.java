package dev.sharedipc.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.sharedipc.api.RepoPaths;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The real nodes have no registry: each image they run is an archive scripts/images.sh builds and
 * containerd imports under the archive's name. So every image the install (deploy/) and the Helm
 * chart's defaults name must be one of the references {@code scripts/images.sh list} prints, and
 * those must be in containerd's normalized form ({@code docker.io/library/busybox:1.36}, not {@code
 * busybox:1.36}), or the kubelet asks for a name the node does not hold.
 */
class ImagesTest {
  private static final Path ROOT = RepoPaths.root();
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  @Test
  void everyImageTheInstallAndTheChartNameIsOneImagesShBuilds() throws Exception {
    Map<String, String> named = new TreeMap<>(deployImages());
    chartImages().forEach((image, where) -> named.merge(image, where, (a, b) -> a + ", " + b));
    // the operator, the agent and the CSI driver's two sidecars, each in both
    assertThat(named.keySet())
        .as("images named by deploy/ and the chart")
        .hasSizeGreaterThanOrEqualTo(4);

    List<String> listed = listed();
    named.forEach(
        (image, where) ->
            assertThat(listed)
                .as("%s (named in %s) is one scripts/images.sh builds", image, where)
                .contains(normalized(image)));
  }

  @Test
  void imagesShListsFullyQualifiedReferencesWithTheSandboxImage() throws Exception {
    List<String> listed = listed();
    assertThat(listed)
        .isNotEmpty()
        .allSatisfy(
            ref -> assertThat(ref).as("containerd's name for %s", ref).isEqualTo(normalized(ref)))
        .anySatisfy(ref -> assertThat(ref).startsWith("registry.k8s.io/pause:"))
        .contains("docker.io/library/busybox:1.36");
  }

  @Test
  void normalizationIsContainerds() {
    assertThat(normalized("busybox:1.36")).isEqualTo("docker.io/library/busybox:1.36");
    assertThat(normalized("busybox")).isEqualTo("docker.io/library/busybox:latest");
    assertThat(normalized("prom/prometheus:v2")).isEqualTo("docker.io/prom/prometheus:v2");
    assertThat(normalized("localhost:5000/x")).isEqualTo("localhost:5000/x:latest");
    assertThat(normalized("registry.k8s.io/pause:3.10")).isEqualTo("registry.k8s.io/pause:3.10");
  }

  /** A reference as containerd stores it: docker.io and library/ added, :latest when untagged. */
  static String normalized(String ref) {
    String name = ref;
    int slash = name.indexOf('/');
    String first = slash < 0 ? "" : name.substring(0, slash);
    if (slash < 0) {
      name = "docker.io/library/" + name;
    } else if (!first.contains(".") && !first.contains(":") && !first.equals("localhost")) {
      name = "docker.io/" + name;
    }
    boolean tagged = name.substring(name.lastIndexOf('/') + 1).contains(":") || name.contains("@");
    return tagged ? name : name + ":latest";
  }

  /** The first column of {@code scripts/images.sh list}: it builds nothing and needs no jar. */
  static List<String> listed() throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder("bash", ROOT.resolve("scripts/images.sh").toString(), "list")
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("scripts/images.sh list finishes").isTrue();
    assertThat(p.exitValue()).as("scripts/images.sh list exit code").isZero();
    return out.lines().filter(l -> !l.isBlank()).map(l -> l.split("\t")[0]).toList();
  }

  /** Every {@code image:} of every document under deploy/, with the file it is in. */
  static Map<String, String> deployImages() throws IOException {
    Map<String, String> images = new TreeMap<>();
    List<Path> files;
    try (Stream<Path> walk = Files.walk(ROOT.resolve("deploy"))) {
      files = walk.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
    }
    for (Path file : files) {
      try (MappingIterator<JsonNode> docs =
          YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
        while (docs.hasNext()) {
          JsonNode doc = docs.next();
          List<String> found = new ArrayList<>();
          collect(doc, found);
          found.forEach(i -> images.put(i, ROOT.relativize(file).toString()));
        }
      }
    }
    return images;
  }

  private static void collect(JsonNode node, List<String> out) {
    if (node == null) {
      return;
    }
    if (node.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (e.getKey().equals("image") && e.getValue().isTextual()) {
          out.add(e.getValue().asText());
        } else {
          collect(e.getValue(), out);
        }
      }
    } else if (node.isArray()) {
      node.forEach(n -> collect(n, out));
    }
  }

  /**
   * The chart's default images: each {@code image: {repository, tag}} (an empty tag is the chart's
   * appVersion, as _helpers.tpl says) and each string value of a key ending in {@code Image}.
   */
  static Map<String, String> chartImages() throws IOException {
    Path chart = ROOT.resolve("charts/sharedipc");
    String appVersion =
        YAML.readTree(chart.resolve("Chart.yaml").toFile()).path("appVersion").asText();
    assertThat(appVersion).as("the chart's appVersion").isNotBlank();
    Map<String, String> images = new TreeMap<>();
    chartImages(YAML.readTree(chart.resolve("values.yaml").toFile()), "", appVersion, images);
    return images;
  }

  private static void chartImages(
      JsonNode node, String path, String appVersion, Map<String, String> out) {
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String key = path + "." + e.getKey();
      JsonNode v = e.getValue();
      if (e.getKey().equals("image") && v.has("repository")) {
        String tag = v.path("tag").asText("");
        out.put(
            v.path("repository").asText() + ":" + (tag.isEmpty() ? appVersion : tag),
            "values.yaml " + key);
      } else if (e.getKey().endsWith("Image") && v.isTextual()) {
        out.put(v.asText(), "values.yaml " + key);
      } else if (v.isObject()) {
        chartImages(v, key, appVersion, out);
      }
    }
  }
}
