package dev.sharedipc.operator.render;

import static dev.sharedipc.operator.Fixtures.member;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sharedipc.api.v1alpha1.MemberSpec;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PodTemplateMergerTest {
  private final PodTemplateMerger merger = new PodTemplateMerger();

  @Test
  void containersOfAllMembersJoinInMemberOrder() {
    PodTemplateSpec pod =
        merger.merge(List.of(member("writer", null, null), member("reader", null, null)));
    assertThat(pod.getSpec().getContainers())
        .extracting(Container::getName)
        .containsExactly("writer", "reader");
  }

  @Test
  void sameContainerNameInTwoMembersIsAConflictNamingBoth() {
    MemberSpec a = member("a", null, null);
    MemberSpec b = member("b", null, null);
    b.getTemplate().getSpec().getContainers().get(0).setName("a");
    assertThatThrownBy(() -> merger.merge(List.of(a, b)))
        .isInstanceOf(MergeConflict.class)
        .hasMessageContaining("members a and b both have a container named a");
  }

  @Test
  void identicalVolumesAreSharedAndDifferentOnesWithOneNameConflict() {
    Volume cache = new VolumeBuilder().withName("cache").withNewEmptyDir().endEmptyDir().build();
    MemberSpec a = member("a", null, null);
    MemberSpec b = member("b", null, null);
    a.getTemplate().getSpec().setVolumes(List.of(cache));
    b.getTemplate().getSpec().setVolumes(List.of(new VolumeBuilder(cache).build()));
    assertThat(merger.merge(List.of(a, b)).getSpec().getVolumes()).containsExactly(cache);

    b.getTemplate()
        .getSpec()
        .setVolumes(
            List.of(new VolumeBuilder().withName("cache").withNewHostPath("/x", null).build()));
    assertThatThrownBy(() -> merger.merge(List.of(a, b)))
        .isInstanceOf(MergeConflict.class)
        .hasMessageContaining("volume cache");
  }

  @Test
  void labelsUniteAndDisagreeingValuesConflict() {
    MemberSpec a = member("a", null, null);
    MemberSpec b = member("b", null, null);
    a.getTemplate()
        .setMetadata(
            new io.fabric8.kubernetes.api.model.ObjectMetaBuilder()
                .withLabels(Map.of("app", "x", "tier", "1"))
                .build());
    b.getTemplate()
        .setMetadata(
            new io.fabric8.kubernetes.api.model.ObjectMetaBuilder()
                .withLabels(Map.of("app", "x", "role", "r"))
                .build());
    assertThat(merger.merge(List.of(a, b)).getMetadata().getLabels())
        .containsOnlyKeys("app", "tier", "role");

    b.getTemplate().getMetadata().setLabels(Map.of("app", "y"));
    assertThatThrownBy(() -> merger.merge(List.of(a, b))).hasMessageContaining("label app");
  }

  @Test
  void podFieldSetByOneMemberIsKeptAndSetDifferentlyByTwoConflicts() {
    MemberSpec a = member("a", null, null);
    MemberSpec b = member("b", null, null);
    a.getTemplate().getSpec().setServiceAccountName("feed");
    assertThat(merger.merge(List.of(a, b)).getSpec().getServiceAccountName()).isEqualTo("feed");

    b.getTemplate().getSpec().setServiceAccountName("feed");
    assertThat(merger.merge(List.of(a, b)).getSpec().getServiceAccountName()).isEqualTo("feed");

    b.getTemplate().getSpec().setServiceAccountName("other");
    assertThatThrownBy(() -> merger.merge(List.of(a, b)))
        .isInstanceOf(MergeConflict.class)
        .hasMessageContaining("spec.serviceAccountName");
  }

  @Test
  void tolerationsAndNodeSelectorsUniteWithoutDuplicates() {
    Toleration t =
        new TolerationBuilder()
            .withKey("dedicated")
            .withOperator("Equal")
            .withValue("trading")
            .withEffect("NoSchedule")
            .build();
    MemberSpec a = member("a", null, null);
    MemberSpec b = member("b", null, null);
    a.getTemplate().getSpec().setTolerations(List.of(t));
    b.getTemplate().getSpec().setTolerations(List.of(new TolerationBuilder(t).build()));
    a.getTemplate().getSpec().setNodeSelector(Map.of("zone", "a"));
    b.getTemplate().getSpec().setNodeSelector(Map.of("disk", "ssd"));
    PodTemplateSpec pod = merger.merge(List.of(a, b));
    assertThat(pod.getSpec().getTolerations()).containsExactly(t);
    assertThat(pod.getSpec().getNodeSelector())
        .containsOnly(Map.entry("zone", "a"), Map.entry("disk", "ssd"));
  }

  @Test
  void memberWithoutContainersIsRejected() {
    MemberSpec empty = member("empty", null, null);
    empty.getTemplate().getSpec().setContainers(List.of());
    assertThatThrownBy(() -> merger.merge(List.of(empty)))
        .hasMessageContaining("member empty has no containers");
  }
}
