package dev.sharedipc.operator.render;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.api.RepoPaths;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class RenderCommandTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int render(String... args) {
    return new CommandLine(
            new RenderCommand(new PrintStream(out, true), new PrintStream(err, true)))
        .execute(args);
  }

  @Test
  void everySampleGroupRendersToPods() throws IOException {
    List<Path> samples;
    try (Stream<Path> files = Files.list(RepoPaths.root().resolve("samples"))) {
      samples = files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
    }
    int groups = 0;
    for (Path sample : samples) {
      if (!Files.readString(sample).contains("kind: SharedIpcGroup")) {
        continue;
      }
      groups++;
      out.reset();
      assertThat(render("-f", sample.toString())).as("render %s: %s", sample, err).isZero();
      Object parsed =
          new KubernetesSerialization().unmarshal(new ByteArrayInputStream(out.toByteArray()));
      List<?> items = parsed instanceof List<?> list ? list : List.of(parsed);
      assertThat(items)
          .as("%s", sample)
          .isNotEmpty()
          .allSatisfy(item -> assertThat(item).isInstanceOf(Pod.class));
      assertThat(((HasMetadata) items.get(0)).getMetadata().getLabels())
          .containsKey("sharedipc.dev/group");
    }
    assertThat(groups).isPositive();
  }

  @Test
  void aGroupThatCannotBeRenderedExitsOneWithTheReason(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("bad.yaml");
    Files.writeString(
        file,
        """
        apiVersion: sharedipc.dev/v1alpha1
        kind: SharedIpcGroup
        metadata: {name: clash}
        spec:
          sharedMemory: {size: 64Mi}
          members:
            - name: a
              template: {spec: {containers: [{name: same, image: busybox}]}}
            - name: b
              template: {spec: {containers: [{name: same, image: busybox}]}}
        """);
    assertThat(render("-f", file.toString())).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("default/clash cannot be rendered")
        .contains("container named same");
  }

  private int renderYaml(Path dir, String yaml) throws IOException {
    Path file = dir.resolve("group.yaml");
    Files.writeString(file, yaml);
    return render("-f", file.toString());
  }

  private static String group(String sharedMemory, String extraSpec) {
    return """
        apiVersion: sharedipc.dev/v1alpha1
        kind: SharedIpcGroup
        metadata: {name: g}
        spec:
        """
        + sharedMemory
        + extraSpec
        + """
          members:
            - name: a
              template: {spec: {containers: [{name: a, image: busybox}]}}
        """;
  }

  @Test
  void aSizeThatIsNotAQuantityExitsTwoSayingWhatTheApiServerWould(@TempDir Path dir)
      throws IOException {
    assertThat(renderYaml(dir, group("  sharedMemory: {size: 512MB}\n", ""))).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("SharedIpcGroup default/g is invalid (the API server would refuse it)")
        .contains(
            "spec.sharedMemory.size: Invalid value: \"512MB\": size must be a positive Kubernetes quantity such as 512Mi or 2Gi")
        .doesNotContain("Exception")
        .doesNotContain("\tat ");
    assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
  }

  @Test
  void aSizeOf8EiExitsTwoSayingWhatTheApiServerWould(@TempDir Path dir) throws IOException {
    assertThat(renderYaml(dir, group("  sharedMemory: {size: 8Ei}\n", ""))).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains(
            "spec.sharedMemory.size: Invalid value: \"8Ei\": size must be below 8Ei (at most 9223372036854775806 bytes)")
        .doesNotContain("must be a positive")
        .doesNotContain("\tat ");
  }

  @Test
  void aMisspeltFieldExitsTwoNamingIt(@TempDir Path dir) throws IOException {
    assertThat(
            renderYaml(
                dir, group("  sharedMemory: {size: 64Mi, mountPth: /shm}\n", "  replica: 2\n")))
        .isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains(
            "unknown field \"spec.sharedMemory.mountPth\" (spec.sharedMemory has accountTo, medium, mountPath, size)")
        .contains("unknown field \"spec.replica\"")
        .doesNotContain("Exception");
  }

  @Test
  void aMisspeltFieldInAMemberTemplateIsFoundToo(@TempDir Path dir) throws IOException {
    String yaml =
        group("  sharedMemory: {size: 64Mi}\n", "").replace("image: busybox", "imag: busybox");
    assertThat(renderYaml(dir, yaml)).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("unknown field \"spec.members[0].template.spec.containers[0].imag\"");
  }

  @Test
  void aMissingSharedMemoryIsReportedAsSuch(@TempDir Path dir) throws IOException {
    assertThat(renderYaml(dir, group("", ""))).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("spec.sharedMemory: Required value")
        .doesNotContain("InvalidMemberTemplates");
  }

  @Test
  void anUnreadableFileExitsTwoWithoutAStackTrace(@TempDir Path dir) throws IOException {
    assertThat(render("-f", dir.resolve("absent.yaml").toString())).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("absent.yaml: no such file")
        .doesNotContain("Exception");
    err.reset();
    Path broken = dir.resolve("broken.yaml");
    Files.writeString(broken, "kind: SharedIpcGroup\nspec: [unclosed\n");
    assertThat(render("-f", broken.toString())).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("broken.yaml: cannot read it as YAML")
        .doesNotContain("\tat ");
  }

  @Test
  void aFileWithoutGroupsSaysSo(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("cm.yaml");
    Files.writeString(file, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n");
    assertThat(render("-f", file.toString())).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("skipping ConfigMap x")
        .contains("no SharedIpcGroup found");
  }

  @Test
  void podLevelResourcesAreRaisedByAccountToAndShownOffline(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("podlevel.yaml");
    Files.writeString(
        file,
        """
        apiVersion: sharedipc.dev/v1alpha1
        kind: SharedIpcGroup
        metadata: {name: capped}
        spec:
          sharedMemory: {size: 512Mi, accountTo: writer}
          members:
            - name: writer
              template:
                spec:
                  resources: {limits: {memory: 300Mi}}
                  containers: [{name: writer, image: busybox, resources: {limits: {memory: 256Mi}}}]
        """);
    assertThat(render("-f", file.toString())).as("%s", err).isZero();
    String shown = out.toString(StandardCharsets.UTF_8);
    assertThat(shown)
        .contains("# MemoryAccounted=True (AccountedToMember)")
        .contains("and to the pod-level memory limit (spec.resources) of its pod");
    Pod pod =
        new KubernetesSerialization().unmarshal(shown.substring(shown.indexOf("---")), Pod.class);
    assertThat(pod.getSpec().getResources().getLimits().get("memory")).hasToString("812Mi");
    assertThat(pod.getSpec().getContainers().get(0).getResources().getLimits().get("memory"))
        .hasToString("768Mi");
  }
}
