package dev.sharedipc.operator.usage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.api.v1alpha1.SharedIpcNode;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ReportedGroupsTest {
  private static SharedIpcNode report(String node, String version, String... groups) {
    SharedIpcNode report =
        NodeUsageTest.node(
            node, Arrays.stream(groups).map(g -> NodeUsageTest.ns("ns", g, 0, 1, 1)).toList());
    report.getMetadata().setResourceVersion(version);
    return report;
  }

  @Test
  void aChangedReportWakesTheGroupsOfTheOldAndTheNewVersion() {
    ReportedGroups reported = new ReportedGroups();
    assertThat(reported.changedBy(report("a", "1", "x", "y"))).containsExactly("ns/x", "ns/y");
    SharedIpcNode second = report("a", "2", "y", "z");
    assertThat(reported.changedBy(second)).containsExactly("ns/x", "ns/y", "ns/z");
    assertThat(reported.seen(second)).as("a version asked about before").isTrue();
    assertThat(reported.changedBy(second))
        .as("asked again about the same version")
        .containsExactly("ns/x", "ns/y", "ns/z");
    assertThat(reported.seen(report("a", "3", "z"))).as("a new version").isFalse();
    assertThat(reported.changedBy(report("a", "3", "z"))).containsExactly("ns/y", "ns/z");
    assertThat(reported.changedBy(report("b", "4")))
        .as("another node's history is its own")
        .isEmpty();
    assertThat(reported.lastOf("a")).containsExactly("ns/z");
    assertThat(reported.lastOf("never-seen")).isEmpty();
  }
}
