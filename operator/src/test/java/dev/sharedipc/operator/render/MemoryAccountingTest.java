package dev.sharedipc.operator.render;

import static dev.sharedipc.operator.Fixtures.group;
import static dev.sharedipc.operator.Fixtures.member;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.operator.Verdict;
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
    SharedIpcGroup g = group("g", 1, "256Mi", member("writer", "128Mi", "256Mi"), member("reader", "64Mi", "128Mi"));
    g.getSpec().getSharedMemory().setAccountTo("writer");
    DesiredState desired = renderer.render(g);
    Container writer = desired.pods().get(0).getSpec().getContainers().get(0);
    assertThat(writer.getResources().getRequests().get("memory")).isEqualTo(new Quantity("384Mi"));
    assertThat(writer.getResources().getLimits().get("memory")).isEqualTo(new Quantity("512Mi"));
    Container reader = desired.pods().get(0).getSpec().getContainers().get(1);
    assertThat(reader.getResources().getLimits().get("memory")).isEqualTo(new Quantity("128Mi"));
    assertThat(desired.memory()).isEqualTo(new Verdict(true, "AccountedToMember", desired.memory().message()));
    assertThat(g.getSpec().getMembers().get(0).getTemplate().getSpec().getContainers().get(0).getResources().getLimits().get("memory"))
        .as("the group's own spec is never modified").isEqualTo(new Quantity("256Mi"));
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
    SharedIpcGroup g = group("g", 1, size, member("writer", null, writerLimit), member("reader", null, readerLimit));
    Verdict verdict = renderer.render(g).memory();
    assertThat(verdict.holds()).isEqualTo(holds);
    assertThat(verdict.reason()).isEqualTo(reason);
    if (!holds) {
      assertThat(verdict.message()).contains("accountTo").contains("OOM");
    }
  }

  @Test
  void podLimitBelowSizeExplainsEnospc() {
    Pod pod = renderer.render(group("g", 1, "1Gi", member("a", null, "100Mi"), member("b", null, "100Mi"))).pods().get(0);
    assertThat(pod.getSpec().getVolumes().get(0).getEmptyDir().getSizeLimit()).isEqualTo(new Quantity("1Gi"));
    assertThat(renderer.render(group("g", 1, "1Gi", member("a", null, "100Mi"), member("b", null, "100Mi"))).memory().message())
        .contains("add up to 200Mi").contains("ENOSPC");
  }
}
