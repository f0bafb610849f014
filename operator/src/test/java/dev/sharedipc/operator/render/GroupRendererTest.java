package dev.sharedipc.operator.render;

import static dev.sharedipc.operator.Fixtures.group;
import static dev.sharedipc.operator.Fixtures.member;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sharedipc.api.Labels;
import dev.sharedipc.api.v1alpha1.Placement;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;

class GroupRendererTest {
  private final GroupRenderer renderer = new GroupRenderer();

  @Test
  void onePodPerInstanceWithLabelsOwnerAndSharedVolumeInEveryContainer() {
    SharedIpcGroup g = group("md", 3, "64Mi", member("w", null, null), member("r", null, null));
    g.getSpec().getSharedMemory().setMountPath("/shm");
    List<Pod> pods = renderer.render(g).pods();
    assertThat(pods).extracting(p -> p.getMetadata().getName()).containsExactly("md-0", "md-1", "md-2");
    Pod pod = pods.get(2);
    assertThat(pod.getMetadata().getLabels()).containsEntry(Labels.GROUP, "md").containsEntry(Labels.INSTANCE, "2")
        .containsEntry(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE);
    assertThat(pod.getMetadata().getOwnerReferences()).singleElement().satisfies(o -> assertThat(o.getUid()).isEqualTo("uid-md"));
    assertThat(pod.getSpec().getVolumes()).singleElement().satisfies(v -> {
      assertThat(v.getName()).isEqualTo(GroupRenderer.SHARED_VOLUME);
      assertThat(v.getEmptyDir().getMedium()).isEqualTo("Memory");
    });
    for (Container c : pod.getSpec().getContainers()) {
      assertThat(c.getVolumeMounts()).anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/shm"));
      assertThat(c.getEnv()).anySatisfy(e -> assertThat(e.getName() + "=" + e.getValue()).isEqualTo("SHAREDIPC_INSTANCE=2"));
    }
  }

  @Test
  void templateHashIsStableChangesWithThePodTemplateButNotWithReplicas() {
    SharedIpcGroup g = group("h", 1, "64Mi", member("w", null, null));
    String first = renderer.render(g).templateHash();
    assertThat(renderer.render(g).templateHash()).isEqualTo(first);
    g.getSpec().setReplicas(5);
    assertThat(renderer.render(g).templateHash()).isEqualTo(first);
    g.getSpec().getMembers().get(0).getTemplate().getSpec().getContainers().get(0).setImage("busybox:2");
    assertThat(renderer.render(g).templateHash()).isNotEqualTo(first);
    g.getSpec().getMembers().get(0).getTemplate().getSpec().getContainers().get(0).setImage("busybox:1.36");
    g.getSpec().getSharedMemory().setSize(new io.fabric8.kubernetes.api.model.Quantity("128Mi"));
    assertThat(renderer.render(g).templateHash()).isNotEqualTo(first);
  }

  @Test
  void zeroReplicasRendersNoPods() {
    assertThat(renderer.render(group("z", 0, "64Mi", member("w", null, null))).pods()).isEmpty();
  }

  @Test
  void sameNodeIsReportedAsNotSupportedYet() {
    SharedIpcGroup g = group("sn", 1, "64Mi", member("w", null, null));
    g.getSpec().setPlacement(Placement.SameNode);
    assertThatThrownBy(() -> renderer.render(g)).isInstanceOf(UnsupportedPlacement.class).hasMessageContaining("SameNode");
  }

  @Test
  void aMemberMountingSomethingElseAtMountPathIsAConflict() {
    SharedIpcGroup g = group("m", 1, "64Mi", member("w", null, null));
    g.getSpec().getMembers().get(0).getTemplate().getSpec().getContainers().get(0)
        .setVolumeMounts(List.of(new VolumeMountBuilder().withName("own").withMountPath("/dev/shm").build()));
    assertThatThrownBy(() -> renderer.render(g)).isInstanceOf(MergeConflict.class).hasMessageContaining("already mounts volume own at /dev/shm");
  }
}
