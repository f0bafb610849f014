package dev.sharedipc.operator.render;

import static dev.sharedipc.operator.Fixtures.member;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sharedipc.api.v1alpha1.MemberSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PodLevelResourcesTest {
  private final PodTemplateMerger merger = new PodTemplateMerger();

  static MemberSpec withPodLevel(MemberSpec member, String memoryRequest, String memoryLimit) {
    ResourceRequirementsBuilder b = new ResourceRequirementsBuilder();
    if (memoryRequest != null) {
      b.addToRequests("memory", new Quantity(memoryRequest));
    }
    if (memoryLimit != null) {
      b.addToLimits("memory", new Quantity(memoryLimit));
    }
    member.getTemplate().getSpec().setResources(b.build());
    return member;
  }

  @Test
  void samePodSumsTheMembersPodLevelBudgets() {
    MemberSpec a = withPodLevel(member("a", null, "256Mi"), "200Mi", "300Mi");
    MemberSpec b = withPodLevel(member("b", null, null), null, "100Mi");
    ResourceRequirements merged = merger.merge(List.of(a, b)).getSpec().getResources();
    assertThat(merged.getLimits()).containsExactly(Map.entry("memory", new Quantity("400Mi")));
    // b asked nothing of its containers: alone, its request would default to its pod-level limit
    assertThat(merged.getRequests()).containsExactly(Map.entry("memory", new Quantity("300Mi")));
  }

  @Test
  void aMemberWithoutPodLevelResourcesContributesWhatItsContainersAddUpTo() {
    MemberSpec a = withPodLevel(member("a", null, null), null, "300Mi");
    MemberSpec b = member("b", "64Mi", "128Mi");
    MemberSpec c = member("c", null, "32Mi");
    ResourceRequirements merged = merger.merge(List.of(a, b, c)).getSpec().getResources();
    assertThat(merged.getLimits()).containsExactly(Map.entry("memory", new Quantity("460Mi")));
    assertThat(merged.getRequests()).containsExactly(Map.entry("memory", new Quantity("396Mi")));
  }

  @Test
  void cpuSumsToo() {
    MemberSpec a = member("a", null, null);
    a.getTemplate()
        .getSpec()
        .setResources(
            new ResourceRequirementsBuilder().addToLimits("cpu", new Quantity("1500m")).build());
    MemberSpec b = member("b", null, null);
    b.getTemplate()
        .getSpec()
        .setResources(
            new ResourceRequirementsBuilder().addToLimits("cpu", new Quantity("1")).build());
    ResourceRequirements merged = merger.merge(List.of(a, b)).getSpec().getResources();
    assertThat(merged.getLimits().get("cpu")).isEqualTo(new Quantity("2500m"));
    assertThat(merged.getRequests().get("cpu")).isEqualTo(new Quantity("2500m"));
  }

  @Test
  void aPodLevelLimitNextToAnUnlimitedMemberIsAConflictSayingWhatToDo() {
    MemberSpec a = withPodLevel(member("a", null, null), null, "300Mi");
    MemberSpec b = member("b", null, null);
    assertThatThrownBy(() -> merger.merge(List.of(a, b)))
        .isInstanceOf(MergeConflict.class)
        .hasMessageContaining("member a sets a pod-level memory limit")
        .hasMessageContaining("member b has a container without a memory limit")
        .hasMessageContaining(
            "give member b a pod-level memory limit or one on each of its containers");
  }

  @Test
  void aLoneMemberKeepsItsOwnAndNoPodLevelResourcesMeansNone() {
    MemberSpec a = withPodLevel(member("a", null, null), null, "300Mi");
    assertThat(merger.merge(List.of(a)).getSpec().getResources().getLimits())
        .containsExactly(Map.entry("memory", new Quantity("300Mi")));
    assertThat(merger.merge(List.of(a)).getSpec().getResources().getRequests()).isNullOrEmpty();
    assertThat(
            merger
                .merge(List.of(member("a", null, "1Gi"), member("b", null, null)))
                .getSpec()
                .getResources())
        .isNull();
  }
}
