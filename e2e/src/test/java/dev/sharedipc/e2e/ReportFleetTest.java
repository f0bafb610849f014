package dev.sharedipc.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The simulated fleet of the scale benchmark writes what agents would: a node whose usage did not
 * change rewrites the counts it wrote last, in every mode, so that the group status writes a mode
 * measures are those its changes cause.
 */
class ReportFleetTest {
  private record Write(String node, int generation) {}

  private final List<Write> writes = new CopyOnWriteArrayList<>();

  private ReportFleet fleet(double changeFraction, Duration heartbeat) {
    List<String> nodes = List.of("n1", "n2", "n3");
    List<Pod> pods =
        nodes.stream()
            .map(
                n ->
                    new PodBuilder()
                        .withNewMetadata()
                        .withName("pod-on-" + n)
                        .endMetadata()
                        .withNewSpec()
                        .withNodeName(n)
                        .endSpec()
                        .build())
            .toList();
    return new ReportFleet(
        (node, on, generation) -> writes.add(new Write(node, generation)),
        null,
        nodes,
        pods,
        Duration.ofMillis(20),
        heartbeat,
        changeFraction);
  }

  @Test
  void aNodeThatDoesNotChangeRewritesTheCountsItWroteLastInEveryMode() throws Exception {
    ReportFleet fleet = fleet(0, Duration.ZERO);
    fleet.createReports();
    fleet.run(ReportFleet.Mode.EVERY_SCAN, Duration.ofMillis(200));
    fleet.run(ReportFleet.Mode.ON_CHANGE, Duration.ofMillis(200));

    assertThat(writes).hasSizeGreaterThan(3);
    assertThat(writes).extracting(Write::generation).containsOnly(0);
  }

  @Test
  void aNodeThatChangesWritesNewCountsEachTimeAndKeepsThemIntoTheNextMode() throws Exception {
    ReportFleet fleet = fleet(1, Duration.ofHours(1));
    fleet.createReports();
    fleet.run(ReportFleet.Mode.EVERY_SCAN, Duration.ofMillis(200));
    fleet.run(ReportFleet.Mode.ON_CHANGE, Duration.ofMillis(200));

    for (String node : List.of("n1", "n2", "n3")) {
      List<Integer> generations =
          writes.stream().filter(w -> w.node().equals(node)).map(Write::generation).toList();
      assertThat(generations).hasSizeGreaterThan(2);
      assertThat(generations).isSorted().doesNotHaveDuplicates().startsWith(0, 1);
    }
  }
}
