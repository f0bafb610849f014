package dev.sharedipc.agent.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.agent.Findings;
import dev.sharedipc.agent.scan.MemoryVolume;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus.VolumeReport;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NodeStatusBuilderTest {
  @Test
  void sharedDirectoriesCarryTheirInstanceSoTheOperatorCanSumThem() {
    Findings f = new Findings(Instant.parse("2026-01-01T00:00:00Z"), Duration.ofMillis(3), List.of(), List.of(), List.of(
        new MemoryVolume(MemoryVolume.Kind.NodeShared, "team_g_2", "/dev/shm/sharedipc/team_g_2", null, 1L << 30, 4096, "team", "g", 2),
        new MemoryVolume(MemoryVolume.Kind.NodeShared, "scratch", "/dev/shm/sharedipc/scratch", null, 1L << 30, 1024)),
        null, List.of(), 0);
    List<VolumeReport> volumes = new NodeStatusBuilder("t").build(f, List.of(), Map.of()).getMemoryVolumes();
    assertThat(volumes).hasSize(2);
    VolumeReport attributed = volumes.get(0);
    assertThat(attributed.name).isEqualTo("team_g_2");
    assertThat(attributed.podNamespace).isEqualTo("team");
    assertThat(attributed.group).isEqualTo("g");
    assertThat(attributed.instance).isEqualTo(2);
    assertThat(attributed.podUid).isNull();
    VolumeReport unattributed = volumes.get(1);
    assertThat(unattributed.podNamespace).isNull();
    assertThat(unattributed.group).isNull();
    assertThat(unattributed.instance).isNull();
  }
}
