package dev.sharedipc.operator.usage;

import static dev.sharedipc.operator.Fixtures.group;
import static dev.sharedipc.operator.Fixtures.member;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcNode;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NodeUsageTest {
  static SharedIpcNodeStatus.NamespaceReport ns(String podNs, String group, Integer instance, long segments, long bytes) {
    SharedIpcNodeStatus.NamespaceReport r = new SharedIpcNodeStatus.NamespaceReport();
    r.podNamespace = podNs;
    r.group = group;
    r.instance = instance;
    r.segments = segments;
    r.bytes = bytes;
    r.rssBytes = bytes / 2;
    r.orphans = 0L;
    return r;
  }

  static SharedIpcNode node(String name, List<SharedIpcNodeStatus.NamespaceReport> namespaces) {
    SharedIpcNode node = new SharedIpcNode();
    node.getMetadata().setName(name);
    SharedIpcNodeStatus status = new SharedIpcNodeStatus();
    status.setIpcNamespaces(namespaces);
    node.setStatus(status);
    return node;
  }

  @Test
  void sumsOnlyTheGroupsOwnNamespacesPerInstanceAcrossNodes() {
    SharedIpcGroup g = group("md", 2, "64Mi", member("w", null, null));
    SharedIpcNodeStatus.VolumeReport volume = new SharedIpcNodeStatus.VolumeReport();
    volume.podNamespace = "ns";
    volume.group = "md";
    volume.instance = 1;
    volume.usedBytes = 4096L;
    SharedIpcNode a = node("a", List.of(ns("ns", "md", 0, 2, 200), ns("other", "md", 0, 50, 5000), ns("ns", "x", 0, 9, 9)));
    a.getStatus().setMemoryVolumes(List.of(volume));
    a.getStatus().setOrphansRemovedByGroup(Map.of("ns/md", 3L, "ns/x", 7L));
    SharedIpcNode b = node("b", List.of(ns("ns", "md", 1, 1, 100), ns("ns", "md", 0, 1, 10)));

    NodeUsage.GroupUsage usage = new NodeUsage().of(g, List.of(a, b));
    assertThat(usage.segmentsByInstance().get(0).getCount()).isEqualTo(3);
    assertThat(usage.segmentsByInstance().get(0).getBytes()).isEqualTo(210);
    assertThat(usage.segmentsByInstance().get(1).getCount()).isEqualTo(1);
    assertThat(usage.sharedMemoryUsedByInstance()).containsExactly(Map.entry(1, 4096L));
    assertThat(usage.orphansRemoved()).isEqualTo(3);
    assertThat(NodeUsage.groupsIn(a)).containsExactlyInAnyOrder("ns/md", "other/md", "ns/x");
  }

  @Test
  void entriesKnownOnlyByPodUidCountForTheInstanceOfThatPod() {
    SharedIpcGroup g = group("md", 2, "64Mi", member("w", null, null));
    SharedIpcNodeStatus.VolumeReport emptyDir = new SharedIpcNodeStatus.VolumeReport();
    emptyDir.podUid = "uid-1";
    emptyDir.usedBytes = 8192L;
    SharedIpcNodeStatus.VolumeReport stranger = new SharedIpcNodeStatus.VolumeReport();
    stranger.podUid = "someone-else";
    stranger.usedBytes = 1L;
    SharedIpcNode a = node("a", List.of());
    a.getStatus().setMemoryVolumes(List.of(emptyDir, stranger));
    io.fabric8.kubernetes.api.model.Pod pod1 = new io.fabric8.kubernetes.api.model.PodBuilder().withNewMetadata()
        .withName("md-1").withUid("uid-1").addToLabels("sharedipc.dev/instance", "1").endMetadata().build();
    NodeUsage.GroupUsage usage = new NodeUsage().of(g, List.of(a), List.of(pod1));
    assertThat(usage.sharedMemoryUsedByInstance()).containsExactly(Map.entry(1, 8192L));
  }

  @Test
  void aNodeWithoutStatusContributesNothing() {
    assertThat(new NodeUsage().of(group("g", 1, "1Mi", member("w", null, null)), List.of(new SharedIpcNode())).isEmpty()).isTrue();
  }
}
