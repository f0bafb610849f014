package dev.sharedipc.operator.render;

import static dev.sharedipc.operator.Fixtures.group;
import static dev.sharedipc.operator.Fixtures.member;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.operator.assessment.Assessment;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MemoryAccountingTest {
  private final GroupRenderer renderer = new GroupRenderer();

  @Test
  void accountToRaisesRequestAndLimitOfThatMembersFirstContainer() {
    SharedIpcGroup g =
        group(
            "g", 1, "256Mi", member("writer", "128Mi", "256Mi"), member("reader", "64Mi", "128Mi"));
    g.getSpec().getSharedMemory().setAccountTo("writer");
    DesiredState desired = renderer.render(g);
    Container writer = desired.pods().get(0).getSpec().getContainers().get(0);
    assertThat(writer.getResources().getRequests().get("memory")).isEqualTo(new Quantity("384Mi"));
    assertThat(writer.getResources().getLimits().get("memory")).isEqualTo(new Quantity("512Mi"));
    Container reader = desired.pods().get(0).getSpec().getContainers().get(1);
    assertThat(reader.getResources().getLimits().get("memory")).isEqualTo(new Quantity("128Mi"));
    assertThat(desired.memory())
        .isEqualTo(new Assessment(true, "AccountedToMember", desired.memory().message()));
    assertThat(
            g.getSpec()
                .getMembers()
                .get(0)
                .getTemplate()
                .getSpec()
                .getContainers()
                .get(0)
                .getResources()
                .getLimits()
                .get("memory"))
        .as("the group's own spec is never modified")
        .isEqualTo(new Quantity("256Mi"));
  }

  @Test
  void accountToWithoutAnyMemoryResourcesGivesARequestOnly() {
    SharedIpcGroup g = group("g", 1, "1Gi", member("writer", null, null));
    g.getSpec().getSharedMemory().setAccountTo("writer");
    Container writer = renderer.render(g).pods().get(0).getSpec().getContainers().get(0);
    assertThat(writer.getResources().getRequests().get("memory")).isEqualTo(new Quantity("1Gi"));
    assertThat(writer.getResources().getLimits()).isNullOrEmpty();
  }

  @ParameterizedTest(name = "size {0}, limits {1}/{2} -> {3} {4}")
  @CsvSource({
    "1Gi, 128Mi, 64Mi, false, PodLimitBelowSharedMemory",
    "256Mi, 512Mi, 128Mi, false, MemberLimitBelowSharedMemory",
    "256Mi, 512Mi, 256Mi, true, LimitsHoldSharedMemory",
    "256Mi, , , true, NoMemoryLimits",
    "1Gi, 128Mi, , false, MemberLimitBelowSharedMemory",
  })
  void withoutAccountToTheVerdictSaysWhetherTheLimitsCanHoldTheSharedMemory(
      String size, String writerLimit, String readerLimit, boolean holds, String reason) {
    SharedIpcGroup g =
        group(
            "g", 1, size, member("writer", null, writerLimit), member("reader", null, readerLimit));
    Assessment verdict = renderer.render(g).memory();
    assertThat(verdict.holds()).isEqualTo(holds);
    assertThat(verdict.reason()).isEqualTo(reason);
    if (!holds) {
      assertThat(verdict.message()).contains("accountTo").contains("OOM");
    }
  }

  @Test
  void podLimitBelowSizeExplainsEnospc() {
    Pod pod =
        renderer
            .render(group("g", 1, "1Gi", member("a", null, "100Mi"), member("b", null, "100Mi")))
            .pods()
            .get(0);
    assertThat(pod.getSpec().getVolumes().get(0).getEmptyDir().getSizeLimit())
        .isEqualTo(new Quantity("1Gi"));
    assertThat(
            renderer
                .render(
                    group("g", 1, "1Gi", member("a", null, "100Mi"), member("b", null, "100Mi")))
                .memory()
                .message())
        .contains("add up to 200Mi")
        .contains("ENOSPC");
  }

  @Test
  void accountToRaisesThePodLevelLimitSoTheApiServerAdmitsThePod() {
    // the case of issue 9: a pod-level limit of 300Mi, size 512Mi, accountTo
    SharedIpcGroup g =
        group(
            "g",
            1,
            "512Mi",
            PodLevelResourcesTest.withPodLevel(member("writer", "128Mi", "256Mi"), null, "300Mi"));
    g.getSpec().getSharedMemory().setAccountTo("writer");
    DesiredState desired = renderer.render(g);
    Pod pod = desired.pods().get(0);
    Container writer = pod.getSpec().getContainers().get(0);
    assertThat(writer.getResources().getLimits().get("memory")).isEqualTo(new Quantity("768Mi"));
    assertThat(pod.getSpec().getResources().getLimits().get("memory"))
        .isEqualTo(new Quantity("812Mi"));
    // a container asked for memory: Kubernetes defaults the pod-level request from the (raised)
    // containers' requests
    assertThat(pod.getSpec().getResources().getRequests()).isNullOrEmpty();
    assertThat(desired.memory().reason()).isEqualTo("AccountedToMember");
    assertThat(desired.memory().message())
        .contains("and to the pod-level memory limit (spec.resources) of its pod");
  }

  @Test
  void accountToRaisesPodLevelRequestsAndWritesDownTheRequestKubernetesWouldDefaultToTheLimit() {
    SharedIpcGroup both =
        group(
            "g",
            1,
            "512Mi",
            PodLevelResourcesTest.withPodLevel(member("w", null, null), "100Mi", "300Mi"));
    both.getSpec().getSharedMemory().setAccountTo("w");
    Pod pod = renderer.render(both).pods().get(0);
    assertThat(pod.getSpec().getResources().getRequests().get("memory"))
        .isEqualTo(new Quantity("612Mi"));
    assertThat(pod.getSpec().getResources().getLimits().get("memory"))
        .isEqualTo(new Quantity("812Mi"));

    // no container asks for memory: alone, the pod's request would have been its limit
    SharedIpcGroup limitOnly =
        group(
            "g",
            1,
            "512Mi",
            PodLevelResourcesTest.withPodLevel(member("w", null, null), null, "300Mi"));
    limitOnly.getSpec().getSharedMemory().setAccountTo("w");
    Pod raised = renderer.render(limitOnly).pods().get(0);
    assertThat(raised.getSpec().getResources().getRequests().get("memory"))
        .isEqualTo(new Quantity("812Mi"));
    assertThat(raised.getSpec().getResources().getLimits().get("memory"))
        .isEqualTo(new Quantity("812Mi"));
    assertThat(raised.getSpec().getContainers().get(0).getResources().getRequests().get("memory"))
        .isEqualTo(new Quantity("512Mi"));
  }

  @Test
  void withoutAccountToAPodLevelLimitBelowSizeIsJudgedAsThePodsCap() {
    SharedIpcGroup g =
        group(
            "g",
            1,
            "512Mi",
            PodLevelResourcesTest.withPodLevel(member("w", null, null), null, "300Mi"));
    Assessment verdict = renderer.render(g).memory();
    assertThat(verdict.holds()).isFalse();
    assertThat(verdict.reason()).isEqualTo("PodLimitBelowSharedMemory");
    assertThat(verdict.message())
        .contains("pod-level memory limit (spec.resources.limits.memory) is 300Mi")
        .contains("ENOSPC");

    SharedIpcGroup roomy =
        group(
            "g",
            1,
            "256Mi",
            PodLevelResourcesTest.withPodLevel(member("w", null, null), null, "300Mi"));
    assertThat(renderer.render(roomy).memory().reason()).isEqualTo("LimitsHoldSharedMemory");
  }

  @Test
  void sameNodeAccountToRaisesThatMembersPodOnly() {
    SharedIpcGroup g =
        group(
            "g",
            1,
            "512Mi",
            PodLevelResourcesTest.withPodLevel(member("writer", "128Mi", "256Mi"), null, "300Mi"),
            PodLevelResourcesTest.withPodLevel(member("reader", null, "64Mi"), null, "100Mi"));
    g.getSpec().setPlacement(dev.sharedipc.api.v1alpha1.Placement.SameNode);
    g.getSpec().getSharedMemory().setAccountTo("writer");
    DesiredState desired = renderer.render(g);
    Pod writer = desired.pod("g-0-writer").orElseThrow();
    Pod reader = desired.pod("g-0-reader").orElseThrow();
    assertThat(writer.getSpec().getContainers().get(0).getResources().getLimits().get("memory"))
        .isEqualTo(new Quantity("768Mi"));
    assertThat(writer.getSpec().getResources().getLimits().get("memory"))
        .isEqualTo(new Quantity("812Mi"));
    assertThat(reader.getSpec().getResources().getLimits().get("memory"))
        .isEqualTo(new Quantity("100Mi"));
    assertThat(desired.memory().reason()).isEqualTo("AccountedToMember");
  }

  @Test
  void sameNodeWithoutAccountToNamesAMemberWhosePodLevelLimitIsBelowSize() {
    SharedIpcGroup g =
        group(
            "g",
            1,
            "512Mi",
            PodLevelResourcesTest.withPodLevel(member("writer", null, null), null, "300Mi"));
    g.getSpec().setPlacement(dev.sharedipc.api.v1alpha1.Placement.SameNode);
    Assessment verdict = renderer.render(g).memory();
    assertThat(verdict.reason()).isEqualTo("MemberLimitBelowSharedMemory");
    assertThat(verdict.message()).contains("writer (pod-level limit 300Mi)");
  }
}
