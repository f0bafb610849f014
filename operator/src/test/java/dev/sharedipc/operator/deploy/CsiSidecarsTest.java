package dev.sharedipc.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.api.RepoPaths;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The Go tests of the CSI sidecar stand-ins (scripts/csi-sidecars: the registrar as the kubelet's
 * plugin watcher calls it, the livenessprobe's /healthz against a fake plugin), run by Maven so
 * that `./mvnw verify` covers the images the real nodes run. Outside CI, a machine without Go
 * skips.
 */
class CsiSidecarsTest {
  private static final Path MODULE = RepoPaths.root().resolve("scripts/csi-sidecars");

  @Test
  void goTestsOfTheSidecarStandInsPass() throws IOException, InterruptedException {
    ProcessBuilder pb =
        new ProcessBuilder("go", "test", "-count=1", "./...")
            .directory(MODULE.toFile())
            .redirectErrorStream(true);
    pb.environment().put("GOWORK", "off");
    pb.environment().putIfAbsent("GOTOOLCHAIN", "auto");
    Process p;
    try {
      p = pb.start();
    } catch (IOException noGo) {
      if ("true".equalsIgnoreCase(System.getenv("CI"))) {
        throw noGo;
      }
      Assumptions.abort("no go on PATH (apt-get install golang-go): " + noGo.getMessage());
      return;
    }
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(10, TimeUnit.MINUTES)).as("go test finishes").isTrue();
    assertThat(p.exitValue()).as("go test ./... in %s:%n%s", MODULE, output).isZero();
    assertThat(output).contains("ok  \tsharedipc.dev/csi-sidecars/registrar");
    assertThat(output).contains("ok  \tsharedipc.dev/csi-sidecars/livenessprobe");
  }
}
