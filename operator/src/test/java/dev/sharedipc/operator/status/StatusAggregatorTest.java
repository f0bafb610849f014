package dev.sharedipc.operator.status;

import static dev.sharedipc.operator.Fixtures.group;
import static dev.sharedipc.operator.Fixtures.member;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.api.v1alpha1.InstanceStatus;
import dev.sharedipc.api.v1alpha1.SegmentUsage;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcGroupStatus;
import dev.sharedipc.operator.Verdict;
import dev.sharedipc.operator.render.DesiredState;
import dev.sharedipc.operator.render.GroupRenderer;
import dev.sharedipc.operator.usage.NodeUsage;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StatusAggregatorTest {
  private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
  private static final Verdict NO_POLICY = Verdict.unknown("NotEvaluated", "n/a");
  private final StatusAggregator aggregator = new StatusAggregator();
  private final SharedIpcGroup group = group("g", 3, "64Mi", member("w", null, null));
  private final DesiredState desired = new GroupRenderer().render(group);

  private Pod pod(int index, String node, String phase, boolean ready) {
    Pod desiredPod = desired.pods().get(index);
    PodBuilder b = new PodBuilder(desiredPod).editSpec().withNodeName(node).endSpec()
        .withNewStatus().withPhase(phase).addNewCondition().withType("Ready").withStatus(ready ? "True" : "False").endCondition().endStatus();
    return b.build();
  }

  private SharedIpcGroupStatus aggregate(List<Pod> pods, Map<Integer, SegmentUsage> segments) {
    return aggregator.aggregate(new GroupObservation(group, desired, null, pods, dev.sharedipc.operator.sync.Blockers.NONE, NO_POLICY,
        new NodeUsage.GroupUsage(segments, Map.of(), 0)), NOW);
  }

  private static Condition condition(SharedIpcGroupStatus s, String type) {
    return s.getConditions().stream().filter(c -> c.getType().equals(type)).findFirst().orElseThrow();
  }

  @Test
  void instancesReportTheirPodsState() {
    SharedIpcGroupStatus s = aggregate(List.of(pod(0, "n1", "Running", true), pod(1, null, "Pending", false)), Map.of());
    assertThat(s.getInstances()).extracting(InstanceStatus::getPhase).containsExactly("Ready", "Pending", "Pending");
    assertThat(s.getInstances().get(0).getNode()).isEqualTo("n1");
    assertThat(s.getInstances().get(1).getMessage()).contains("not scheduled");
    assertThat(s.getInstances().get(2).getMessage()).contains("being created");
    assertThat(s.getReadyInstances()).isEqualTo(1);
    assertThat(s.getPhase()).isEqualTo("Placing");
    assertThat(condition(s, "Ready").getMessage()).startsWith("1 of 3 instances ready");
    assertThat(condition(s, "Placed").getReason()).isEqualTo("WaitingForScheduler");
  }

  @Test
  void allReadyMeansRunningAndReady() {
    SharedIpcGroupStatus s = aggregate(List.of(pod(0, "n1", "Running", true), pod(1, "n2", "Running", true), pod(2, "n1", "Running", true)), Map.of());
    assertThat(s.getPhase()).isEqualTo("Running");
    assertThat(condition(s, "Ready").getStatus()).isEqualTo("True");
    assertThat(condition(s, "Placed").getStatus()).isEqualTo("True");
    assertThat(condition(s, "WithinQuota").getStatus()).isEqualTo("Unknown");
  }

  @Test
  void aFailedPodMakesTheGroupDegraded() {
    SharedIpcGroupStatus s = aggregate(List.of(pod(0, "n1", "Running", true), pod(1, "n2", "Failed", false), pod(2, "n1", "Running", true)), Map.of());
    assertThat(s.getPhase()).isEqualTo("Degraded");
    assertThat(s.getInstances().get(1).getPhase()).isEqualTo("Failed");
  }

  @Test
  void aPodWithAnOlderTemplateIsUpdating() {
    Pod old = pod(0, "n1", "Running", true);
    old.getMetadata().getAnnotations().put("sharedipc.dev/template-hash", "old");
    assertThat(aggregate(List.of(old), Map.of()).getInstances().get(0).getPhase()).isEqualTo("Updating");
  }

  @Test
  void invalidSpecFailsTheGroupWithTheReasonOnPlaced() {
    SharedIpcGroupStatus s = aggregator.aggregate(new GroupObservation(group, null,
        new Verdict(false, "InvalidMemberTemplates", "members a and b both have a container named a"), List.of(), dev.sharedipc.operator.sync.Blockers.NONE,
        NO_POLICY, NodeUsage.GroupUsage.NONE), NOW);
    assertThat(s.getPhase()).isEqualTo("Failed");
    assertThat(condition(s, "Placed").getReason()).isEqualTo("InvalidMemberTemplates");
    assertThat(condition(s, "MemoryAccounted").getStatus()).isEqualTo("Unknown");
  }

  @Test
  void segmentsOverQuotaSetWithinQuotaFalseAndSumIntoUsage() {
    group.getSpec().setSegments(new dev.sharedipc.api.v1alpha1.SegmentsSpec());
    group.getSpec().getSegments().setMaxSegments(2);
    SharedIpcGroupStatus s = aggregate(List.of(), Map.of(0, new SegmentUsage(3, 300, 100, 1), 1, new SegmentUsage(1, 10, 5, 0)));
    assertThat(condition(s, "WithinQuota").getStatus()).isEqualTo("False");
    assertThat(condition(s, "WithinQuota").getMessage()).contains("instance 0 holds 3 segments (maxSegments 2)");
    assertThat(s.getUsage().getSegments()).isEqualTo(4);
    assertThat(s.getUsage().getBytes()).isEqualTo(310);
  }
}
