package dev.sharedipc.operator.render;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.sharedipc.api.v1alpha1.Placement;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code render -f FILE}: prints, as YAML, the objects the operator would create for every
 * SharedIpcGroup in FILE, with no cluster. The way to check a group before applying it.
 */
@Command(
    name = "render",
    mixinStandardHelpOptions = true,
    description = {
      "Print the objects the operator would create for the SharedIpcGroups in FILE, as YAML, with no cluster.",
      "Other kinds in FILE are skipped. Groups are first checked as the API server would check them (schema, unknown fields,",
      "quantities). Exit code 2 when a file cannot be read or a group is invalid, 1 when a valid group cannot be rendered",
      "(the reasons go to stderr)."
    })
public final class RenderCommand implements Callable<Integer> {
  @Option(
      names = {"-f", "--filename"},
      required = true,
      paramLabel = "FILE",
      description = "YAML file with one or more documents ('-' reads standard input). Repeatable.")
  List<String> files = new ArrayList<>();

  @Option(
      names = {"-n", "--namespace"},
      paramLabel = "NS",
      defaultValue = "default",
      description = "Namespace for groups that name none (default: ${DEFAULT-VALUE}).")
  String namespace = "default";

  private final PrintStream out;
  private final PrintStream err;

  public RenderCommand() {
    this(System.out, System.err);
  }

  public RenderCommand(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  @Override
  public Integer call() {
    KubernetesSerialization serialization = new KubernetesSerialization();
    GroupRenderer renderer = new GroupRenderer();
    SchemaCheck schema = SchemaCheck.sharedIpcGroup();
    int failures = 0;
    int invalid = 0;
    int groups = 0;
    for (String file : files) {
      List<JsonNode> documents;
      try {
        documents = documents(file);
      } catch (NoSuchFileException e) {
        err.println("render: " + file + ": no such file");
        invalid++;
        continue;
      } catch (IOException e) {
        err.println(
            "render: "
                + file
                + ": cannot read it as YAML: "
                + e.getMessage().lines().findFirst().orElse(""));
        invalid++;
        continue;
      }
      for (JsonNode document : documents) {
        if (!"SharedIpcGroup".equals(document.path("kind").asText())) {
          err.println(
              "render: "
                  + file
                  + ": skipping "
                  + document.path("kind").asText("a document without kind")
                  + " "
                  + document.path("metadata").path("name").asText(""));
          continue;
        }
        groups++;
        String named =
            document.path("metadata").path("namespace").asText(namespace)
                + "/"
                + document.path("metadata").path("name").asText("(no name)");
        List<String> problems = schema.problems(document);
        if (!problems.isEmpty()) {
          invalid++;
          err.println(
              "render: "
                  + file
                  + ": SharedIpcGroup "
                  + named
                  + " is invalid (the API server would refuse it):");
          problems.forEach(p -> err.println("  " + p));
          continue;
        }
        SharedIpcGroup group = serialization.convertValue(document, SharedIpcGroup.class);
        if (group.getMetadata().getNamespace() == null) {
          group.getMetadata().setNamespace(namespace);
        }
        String id = group.getMetadata().getNamespace() + "/" + group.getMetadata().getName();
        try {
          DesiredState desired = renderer.render(group);
          out.println(
              "# SharedIpcGroup "
                  + id
                  + ": "
                  + desired.pods().size()
                  + " pod(s), placement "
                  + group.getSpec().getPlacement()
                  + (group.getSpec().getPlacement() == Placement.SameNode
                      ? " (the node of each instance is chosen at placement)"
                      : ""));
          out.println(
              "# MemoryAccounted="
                  + (Boolean.TRUE.equals(desired.memory().holds()) ? "True" : "False")
                  + " ("
                  + desired.memory().reason()
                  + "): "
                  + desired.memory().message());
          for (Pod pod : desired.pods()) {
            String yaml = serialization.asYaml(pod);
            out.print(yaml.startsWith("---") ? yaml : "---\n" + yaml);
          }
        } catch (MergeConflict e) {
          failures++;
          err.println(
              "render: SharedIpcGroup "
                  + id
                  + " cannot be rendered ("
                  + e.reason()
                  + "): "
                  + e.getMessage());
        }
      }
    }
    if (invalid > 0) {
      return 2;
    }
    if (groups == 0) {
      err.println("render: no SharedIpcGroup found in " + String.join(", ", files));
      return 1;
    }
    return failures == 0 ? 0 : 1;
  }

  private static List<JsonNode> documents(String file) throws IOException {
    try (InputStream in = "-".equals(file) ? System.in : Files.newInputStream(Path.of(file));
        MappingIterator<JsonNode> docs =
            new YAMLMapper().readerFor(JsonNode.class).readValues(in)) {
      List<JsonNode> result = new ArrayList<>();
      while (docs.hasNextValue()) {
        JsonNode doc = docs.nextValue();
        if (doc != null && !doc.isNull() && !doc.isMissingNode()) {
          result.add(doc);
        }
      }
      return result;
    }
  }
}
