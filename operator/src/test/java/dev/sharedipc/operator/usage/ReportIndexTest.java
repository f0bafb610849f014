package dev.sharedipc.operator.usage;

import static dev.sharedipc.operator.Fixtures.group;
import static dev.sharedipc.operator.Fixtures.member;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcNode;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ReportIndexTest {
  private static final Instant NOW = Instant.parse("2026-11-27T12:00:00Z");

  /** The index an informer keeps, built from the same key functions. */
  private static ReportIndex.Lookup indexOf(List<SharedIpcNode> reports) {
    Map<String, Map<String, List<SharedIpcNode>>> indexes = new HashMap<>();
    Map<String, Function<SharedIpcNode, List<String>>> keys =
        Map.of(
            ReportIndex.BY_GROUP,
            ReportIndex::groupKeys,
            ReportIndex.BY_POD_UID,
            ReportIndex::podUidKeys);
    keys.forEach(
        (index, key) -> {
          Map<String, List<SharedIpcNode>> byKey = new HashMap<>();
          reports.forEach(
              r ->
                  key.apply(r)
                      .forEach(k -> byKey.computeIfAbsent(k, x -> new ArrayList<>()).add(r)));
          indexes.put(index, byKey);
        });
    return new ReportIndex.Lookup() {
      @Override
      public List<SharedIpcNode> byIndex(String index, String key) {
        return indexes.get(index).getOrDefault(key, List.of());
      }

      @Override
      public Optional<SharedIpcNode> ofNode(String node) {
        return reports.stream().filter(r -> r.getMetadata().getName().equals(node)).findFirst();
      }
    };
  }

  private static SharedIpcNodeStatus.VolumeReport volumeOfUid(String uid, long used) {
    SharedIpcNodeStatus.VolumeReport v = new SharedIpcNodeStatus.VolumeReport();
    v.podUid = uid;
    v.usedBytes = used;
    return v;
  }

  private static Set<String> names(List<SharedIpcNode> reports) {
    return reports.stream().map(r -> r.getMetadata().getName()).collect(Collectors.toSet());
  }

  @Test
  void aGroupReadsOnlyTheReportsThatNameItListItsPodsOrHoldItsNodes() {
    SharedIpcGroup g = group("md", 2, "64Mi", member("w", null, null));
    List<Pod> pods =
        List.of(
            NodeUsageTest.pod("md-0", "uid-0", 0, "bound"),
            NodeUsageTest.pod("md-1", "uid-1", 1, "quiet"));
    SharedIpcNode named =
        NodeUsageTest.node("named", List.of(NodeUsageTest.ns("ns", "md", 0, 2, 200)));
    SharedIpcNode byUid = NodeUsageTest.node("by-uid", List.of());
    byUid.getStatus().setMemoryVolumes(List.of(volumeOfUid("uid-1", 4096)));
    SharedIpcNode bound =
        NodeUsageTest.node("bound", List.of(NodeUsageTest.ns("ns", "other", 0, 9, 9)));
    SharedIpcNode quiet =
        NodeUsageTest.node("quiet", List.of()); // lists nothing: instance 1 holds zero segments
    SharedIpcNode orphans = NodeUsageTest.node("orphans", List.of());
    orphans.getStatus().setOrphansRemovedByGroup(Map.of("ns/md", 4L));
    List<SharedIpcNode> all = new ArrayList<>(List.of(named, byUid, bound, quiet, orphans));
    for (int i = 0; i < 50; i++) {
      all.add(
          NodeUsageTest.node("elsewhere-" + i, List.of(NodeUsageTest.ns("ns", "g" + i, 0, 1, 10))));
    }

    List<SharedIpcNode> read = ReportIndex.reportsOf(g, pods, indexOf(all));

    assertThat(names(read))
        .containsExactlyInAnyOrder("named", "by-uid", "bound", "quiet", "orphans");
    Set<String> existing = names(all);
    assertThat(new NodeUsage().of(g, read, pods, existing, NOW))
        .isEqualTo(new NodeUsage().of(g, all, pods, existing, NOW));
  }

  @Test
  void aReportIsIndexedByTheGroupsItNamesAndThePodUidsItCarries() {
    SharedIpcNode report =
        NodeUsageTest.node(
            "n",
            List.of(NodeUsageTest.ns("ns", "md", 0, 1, 1), NodeUsageTest.ns("ns", "md", 1, 1, 1)));
    report.getStatus().getIpcNamespaces().get(0).podUid = "uid-a";
    report.getStatus().setMemoryVolumes(List.of(volumeOfUid("uid-b", 1), volumeOfUid(null, 1)));

    assertThat(ReportIndex.groupKeys(report)).containsExactly("ns/md");
    assertThat(ReportIndex.podUidKeys(report)).containsExactly("uid-a", "uid-b");
    assertThat(ReportIndex.podUidKeys(new SharedIpcNode())).isEmpty();
  }

  @Test
  void podsAreIndexedByTheirNodeOnceBoundAndMapToTheGroupThatControlsThem() {
    Pod bound =
        new io.fabric8.kubernetes.api.model.PodBuilder()
            .withNewMetadata()
            .withName("g-0")
            .withNamespace("ns")
            .addNewOwnerReference()
            .withKind("SharedIpcGroup")
            .withName("g")
            .withUid("uid-g")
            .withController(true)
            .endOwnerReference()
            .endMetadata()
            .withNewSpec()
            .withNodeName("n1")
            .endSpec()
            .build();
    assertThat(ReportIndex.nodeKeys(bound)).containsExactly("n1");
    assertThat(ReportIndex.controllingGroup(bound)).contains("ns/g");

    Pod pending =
        new io.fabric8.kubernetes.api.model.PodBuilder(bound)
            .editSpec()
            .withNodeName(null)
            .endSpec()
            .build();
    assertThat(ReportIndex.nodeKeys(pending)).isEmpty();
    Pod foreign =
        new io.fabric8.kubernetes.api.model.PodBuilder(bound)
            .editMetadata()
            .editFirstOwnerReference()
            .withKind("ReplicaSet")
            .endOwnerReference()
            .endMetadata()
            .build();
    assertThat(ReportIndex.controllingGroup(foreign)).isEmpty();
  }
}
