package dev.sharedipc.operator.status;

import static dev.sharedipc.operator.Fixtures.group;
import static dev.sharedipc.operator.Fixtures.member;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.api.v1alpha1.InstanceStatus;
import dev.sharedipc.api.v1alpha1.SegmentUsage;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcGroupStatus;
import dev.sharedipc.operator.assessment.Assessment;
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
  private static final Assessment NO_POLICY = Assessment.unknown("NotEvaluated", "n/a");
  private final StatusAggregator aggregator = new StatusAggregator();
  private final SharedIpcGroup group = group("g", 3, "64Mi", member("w", null, null));
  private final DesiredState desired = new GroupRenderer().render(group);

  private Pod pod(int index, String node, String phase, boolean ready) {
    Pod desiredPod = desired.pods().get(index);
    PodBuilder b =
        new PodBuilder(desiredPod)
            .editSpec()
            .withNodeName(node)
            .endSpec()
            .withNewStatus()
            .withPhase(phase)
            .addNewCondition()
            .withType("Ready")
            .withStatus(ready ? "True" : "False")
            .endCondition()
            .endStatus();
    return b.build();
  }

  private SharedIpcGroupStatus aggregate(List<Pod> pods, Map<Integer, SegmentUsage> segments) {
    return aggregator.aggregate(
        new GroupObservation(
            group,
            desired,
            null,
            pods,
            dev.sharedipc.operator.sync.Blockers.NONE,
            NO_POLICY,
            new NodeUsage.GroupUsage(segments, Map.of(), 0)),
        NOW);
  }

  private static Condition condition(SharedIpcGroupStatus s, String type) {
    return s.getConditions().stream()
        .filter(c -> c.getType().equals(type))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void aFullSharedMemoryInCrashLoopIsTheReasonTheGroupIsNotReadyWithAdviceForItsPolicy() {
    List<Pod> pods =
        List.of(
            pod(0, "n1", "Running", true),
            pod(1, "n1", "Running", false),
            pod(2, "n1", "Running", true));
    String full =
        "the /dev/shm of pod g-1 on node n1 is 96% full (62Mi of 64Mi) while container w is in CrashLoopBackOff";
    NodeUsage.GroupUsage usage =
        new NodeUsage.GroupUsage(
            Map.of(),
            Map.of(),
            0,
            List.of(),
            java.util.Optional.empty(),
            Map.of(),
            Map.of(1, full));
    for (var policy : dev.sharedipc.api.v1alpha1.OrphanPolicy.values()) {
      GroupObservation seen =
          new GroupObservation(
                  group,
                  desired,
                  null,
                  pods,
                  dev.sharedipc.operator.sync.Blockers.NONE,
                  NO_POLICY,
                  usage)
              .governedBy(
                  new dev.sharedipc.api.v1alpha1.EffectiveOrphanPolicy(policy, "10m", "test"),
                  null);
      Condition ready = condition(aggregator.aggregate(seen, NOW), "Ready");
      assertThat(ready.getStatus()).isEqualTo("False");
      assertThat(ready.getReason()).isEqualTo(StatusAggregator.SHARED_MEMORY_FULL);
      assertThat(ready.getMessage())
          .startsWith("2 of 3 instances ready; instance 1: " + full + ". ");
      assertThat(ready.getMessage())
          .contains(
              policy == dev.sharedipc.api.v1alpha1.OrphanPolicy.Delete
                  ? "the node agent removes the files no process has open or mapped"
                  : "Under orphan policy Report the agent removes nothing");
    }
    assertThat(condition(aggregate(pods, Map.of()), "Ready").getReason())
        .as("the guard clears")
        .isEqualTo("InstancesNotReady");
  }

  @Test
  void scaleReadsTheInstancesThatExistAndTheGroupsPodSelector() {
    // Two of three instances have a pod, one of them not even scheduled: both exist.
    SharedIpcGroupStatus s =
        aggregate(List.of(pod(0, "n1", "Running", true), pod(1, null, "Pending", false)), Map.of());
    assertThat(s.getReplicas()).isEqualTo(2);
    assertThat(s.getSelector())
        .isEqualTo("app.kubernetes.io/managed-by=sharedipc-operator,sharedipc.dev/group=g");
    assertThat(aggregate(List.of(), Map.of()).getReplicas()).isZero();
  }

  @Test
  void instancesReportTheirPodsState() {
    SharedIpcGroupStatus s =
        aggregate(List.of(pod(0, "n1", "Running", true), pod(1, null, "Pending", false)), Map.of());
    assertThat(s.getInstances())
        .extracting(InstanceStatus::getPhase)
        .containsExactly("Ready", "Pending", "Pending");
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
    SharedIpcGroupStatus s =
        aggregate(
            List.of(
                pod(0, "n1", "Running", true),
                pod(1, "n2", "Running", true),
                pod(2, "n1", "Running", true)),
            Map.of());
    assertThat(s.getPhase()).isEqualTo("Running");
    assertThat(condition(s, "Ready").getStatus()).isEqualTo("True");
    assertThat(condition(s, "Placed").getStatus()).isEqualTo("True");
    assertThat(condition(s, "WithinQuota").getStatus()).isEqualTo("Unknown");
  }

  @Test
  void semaphoreSetsAndQueuesAreShownPerInstanceAndJudgedOnlyAgainstLimitsThatAreSet() {
    Map<Integer, SegmentUsage> segments =
        Map.of(0, new SegmentUsage(1, 10, 10, 0), 1, new SegmentUsage(0, 0, 0, 0));
    Map<Integer, dev.sharedipc.api.v1alpha1.IpcObjectUsage> objects =
        Map.of(
            0, new dev.sharedipc.api.v1alpha1.IpcObjectUsage(300, 300, 2, 64, 1, 8),
            1, new dev.sharedipc.api.v1alpha1.IpcObjectUsage(1, 1, 0, 0, 0, 0));
    java.util.function.Supplier<SharedIpcGroupStatus> aggregate =
        () ->
            aggregator.aggregate(
                new GroupObservation(
                    group,
                    desired,
                    null,
                    List.of(),
                    dev.sharedipc.operator.sync.Blockers.NONE,
                    NO_POLICY,
                    new NodeUsage.GroupUsage(
                        segments,
                        Map.of(),
                        0,
                        List.of(),
                        java.util.Optional.empty(),
                        objects,
                        Map.of())),
                NOW);

    SharedIpcGroupStatus unlimited = aggregate.get();
    assertThat(unlimited.getInstances().get(0).getIpcObjects().getSemaphoreSets()).isEqualTo(300);
    assertThat(unlimited.getUsage().getIpcObjects())
        .isEqualTo(new dev.sharedipc.api.v1alpha1.IpcObjectUsage(301, 301, 2, 64, 1, 8));
    assertThat(condition(unlimited, "WithinQuota").getStatus())
        .as("no limit set: counted, not judged")
        .isEqualTo("True");

    dev.sharedipc.api.v1alpha1.SegmentsSpec limits = new dev.sharedipc.api.v1alpha1.SegmentsSpec();
    limits.setMaxSemaphoreSets(256);
    limits.setMaxMessageQueues(2);
    group.getSpec().setSegments(limits);
    Condition over = condition(aggregate.get(), "WithinQuota");
    assertThat(over.getStatus()).isEqualTo("False");
    assertThat(over.getReason()).isEqualTo("QuotaExceeded");
    assertThat(over.getMessage())
        .contains(
            "instance 0 holds 300 semaphore sets (maxSemaphoreSets 256",
            "instance 0 holds 3 message queues (maxMessageQueues 2")
        .doesNotContain("instance 1");
  }

  @Test
  void aFailedPodMakesTheGroupDegraded() {
    SharedIpcGroupStatus s =
        aggregate(
            List.of(
                pod(0, "n1", "Running", true),
                pod(1, "n2", "Failed", false),
                pod(2, "n1", "Running", true)),
            Map.of());
    assertThat(s.getPhase()).isEqualTo("Degraded");
    assertThat(s.getInstances().get(1).getPhase()).isEqualTo("Failed");
  }

  @Test
  void aPodWithAnOlderTemplateIsUpdating() {
    Pod old = pod(0, "n1", "Running", true);
    old.getMetadata().getAnnotations().put("sharedipc.dev/template-hash", "old");
    assertThat(aggregate(List.of(old), Map.of()).getInstances().get(0).getPhase())
        .isEqualTo("Updating");
  }

  @Test
  void invalidSpecFailsTheGroupWithTheReasonOnPlaced() {
    SharedIpcGroupStatus s =
        aggregator.aggregate(
            new GroupObservation(
                group,
                null,
                new Assessment(
                    false,
                    "InvalidMemberTemplates",
                    "members a and b both have a container named a"),
                List.of(),
                dev.sharedipc.operator.sync.Blockers.NONE,
                NO_POLICY,
                NodeUsage.GroupUsage.NONE),
            NOW);
    assertThat(s.getPhase()).isEqualTo("Failed");
    assertThat(condition(s, "Placed").getReason()).isEqualTo("InvalidMemberTemplates");
    assertThat(condition(s, "MemoryAccounted").getStatus()).isEqualTo("Unknown");
  }

  @Test
  void aPodSecurityRefusalOfTheOperatorsHostPathDoesNotBlameTheMemberTemplate() {
    // The message the API server gives when Pod Security baseline meets the SameNode shared volume.
    String refusal =
        "pods \"g-0-w\" is forbidden: violates PodSecurity \"baseline:latest\": hostPath volumes (volume \"sharedipc-shm\")";
    SharedIpcGroupStatus s =
        aggregator.aggregate(
            new GroupObservation(
                group,
                desired,
                null,
                List.of(),
                new dev.sharedipc.operator.sync.Blockers(List.of(), Map.of("g-0-w", refusal)),
                NO_POLICY,
                NodeUsage.GroupUsage.NONE),
            NOW);
    assertThat(condition(s, "Placed").getReason()).isEqualTo("PodSecurityForbidsSharedVolume");
    assertThat(condition(s, "Placed").getMessage())
        .contains(refusal)
        .contains("the operator adds")
        .contains("pod-security.kubernetes.io/enforce=privileged")
        .contains("sharedMemory.medium: CSI")
        .doesNotContain("Fix the member template");
    // A refusal of the user's own fields still points at the template.
    SharedIpcGroupStatus own =
        aggregator.aggregate(
            new GroupObservation(
                group,
                desired,
                null,
                List.of(),
                new dev.sharedipc.operator.sync.Blockers(
                    List.of(),
                    Map.of(
                        "g-0-w",
                        "violates PodSecurity \"restricted:latest\": runAsNonRoot != true")),
                NO_POLICY,
                NodeUsage.GroupUsage.NONE),
            NOW);
    assertThat(condition(own, "Placed").getReason()).isEqualTo("PodRejected");
    assertThat(condition(own, "Placed").getMessage()).contains("Fix the member template");
  }

  @Test
  void segmentsOverQuotaSetWithinQuotaFalseAndSumIntoUsage() {
    group.getSpec().setSegments(new dev.sharedipc.api.v1alpha1.SegmentsSpec());
    group.getSpec().getSegments().setMaxSegments(2);
    SharedIpcGroupStatus s =
        aggregate(
            List.of(),
            Map.of(0, new SegmentUsage(3, 300, 100, 1), 1, new SegmentUsage(1, 10, 5, 0)));
    assertThat(condition(s, "WithinQuota").getStatus()).isEqualTo("False");
    assertThat(condition(s, "WithinQuota").getMessage())
        .contains("instance 0 holds 3 segments (maxSegments 2)");
    assertThat(s.getUsage().getSegments()).isEqualTo(4);
    assertThat(s.getUsage().getBytes()).isEqualTo(310);
  }

  @Test
  void instancesSpokenForOnlyByAnIgnoredReportLeaveWithinQuotaUnknownNamingTheNode() {
    NodeUsage.IgnoredReport stale =
        new NodeUsage.IgnoredReport(
            "n2",
            NodeUsage.REPORT_STALE,
            "the report of node n2 is ignored: its last scan was at 2025-12-31T23:50:00Z, more than 3m ago",
            java.util.Set.of(1));
    java.util.function.Function<Map<Integer, SegmentUsage>, Condition> quota =
        segments ->
            condition(
                aggregator.aggregate(
                    new GroupObservation(
                        group,
                        desired,
                        null,
                        List.of(),
                        dev.sharedipc.operator.sync.Blockers.NONE,
                        NO_POLICY,
                        new NodeUsage.GroupUsage(
                            segments, Map.of(), 0, List.of(stale), java.util.Optional.empty())),
                    NOW),
                "WithinQuota");

    Condition nothingElse = quota.apply(Map.of());
    assertThat(nothingElse.getStatus() + "/" + nothingElse.getReason())
        .isEqualTo("Unknown/ReportStale");
    assertThat(nothingElse.getMessage()).contains("node n2");
    assertThat(quota.apply(Map.of(0, new SegmentUsage(1, 1, 1, 0))).getReason())
        .isEqualTo("ReportStale");
    // instance 1 is also reported by a counted report (it moved): judged on that one
    Condition judged =
        quota.apply(Map.of(0, new SegmentUsage(1, 1, 1, 0), 1, new SegmentUsage(1, 1, 1, 0)));
    assertThat(judged.getStatus() + "/" + judged.getReason()).isEqualTo("True/WithinQuota");
  }

  @Test
  void aViolationWithAnAdmittedSpecSaysWhatKeepsRunningAndWhatWaits() {
    // Two instances admitted at generation 1; the group now asks for three and breaks a policy.
    SharedIpcGroup admitted = group("g", 2, "64Mi", member("w", null, null));
    DesiredState healing = new GroupRenderer().render(admitted);
    var record =
        dev.sharedipc.operator.policy.Admission.of(
                admitted, new Assessment(true, "Compliant", "ok"))
            .record();
    var orphans =
        new dev.sharedipc.api.v1alpha1.EffectiveOrphanPolicy(
            dev.sharedipc.api.v1alpha1.OrphanPolicy.Report, "10m", "x");
    SharedIpcGroupStatus s =
        aggregator.aggregate(
            new GroupObservation(
                    group,
                    healing,
                    null,
                    List.of(pod(0, "n1", "Running", true)),
                    dev.sharedipc.operator.sync.Blockers.NONE,
                    new Assessment(false, "PolicyViolation", "sharedMemory.size is above"),
                    NodeUsage.GroupUsage.NONE)
                .governedBy(orphans, record),
            NOW);
    assertThat(condition(s, "PolicyCompliant").getMessage())
        .startsWith("sharedMemory.size is above. ")
        .contains(
            "running instances keep the spec of generation 1 (lost pods are re-created with it)")
        .contains("new instances and spec changes wait");
    assertThat(condition(s, "Placed").getReason()).isEqualTo("PolicyViolation");
    assertThat(s.getInstances().get(1).getMessage()).contains("being created");
    assertThat(s.getInstances().get(2).getMessage())
        .contains("not created while the group breaks a SharedIpcPolicy");
    assertThat(s.getAdmitted()).isEqualTo(record);
    assertThat(s.getEffectiveOrphanPolicy()).isEqualTo(orphans);
  }
}
