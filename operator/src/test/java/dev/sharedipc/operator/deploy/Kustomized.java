package dev.sharedipc.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.api.RepoPaths;
import dev.sharedipc.api.testing.RealApiServer;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Renders a kustomization with the kubectl next to the real API server's binaries (kustomize is
 * built into it).
 */
final class Kustomized {
  private Kustomized() {}

  static List<HasMetadata> render(RealApiServer api, String dir)
      throws IOException, InterruptedException {
    Process kustomize =
        new ProcessBuilder(
                api.kubectl().toString(), "kustomize", RepoPaths.root().resolve(dir).toString())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    byte[] yaml = kustomize.getInputStream().readAllBytes();
    assertThat(kustomize.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(kustomize.exitValue()).as("kubectl kustomize %s exit code", dir).isZero();
    return api.client().load(new ByteArrayInputStream(yaml)).items();
  }

  /**
   * Renders the kustomize base {@code base} with the Component {@code component} (both relative to
   * the repository root), as a user's overlay would: through a kustomization written under target/.
   */
  static List<HasMetadata> renderWithComponent(RealApiServer api, String base, String component)
      throws IOException, InterruptedException {
    Path overlay =
        RepoPaths.root().resolve("operator/target/kustomize-" + component.replace('/', '-'));
    Files.createDirectories(overlay);
    Files.writeString(
        overlay.resolve("kustomization.yaml"),
        "# written by Kustomized.renderWithComponent\n"
            + "resources: ["
            + overlay.relativize(RepoPaths.root().resolve(base))
            + "]\n"
            + "components: ["
            + overlay.relativize(RepoPaths.root().resolve(component))
            + "]\n");
    return render(api, RepoPaths.root().relativize(overlay).toString());
  }

  @SuppressWarnings("unchecked")
  static <T extends HasMetadata> T one(List<HasMetadata> objects, Class<T> type, String name) {
    return (T)
        objects.stream()
            .filter(o -> type.isInstance(o) && o.getMetadata().getName().equals(name))
            .findFirst()
            .orElseThrow(
                () ->
                    new AssertionError(
                        "no " + type.getSimpleName() + " " + name + " in the rendered manifests"));
  }
}
