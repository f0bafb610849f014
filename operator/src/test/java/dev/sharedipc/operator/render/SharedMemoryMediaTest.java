package dev.sharedipc.operator.render;

import static dev.sharedipc.operator.Fixtures.group;
import static dev.sharedipc.operator.Fixtures.member;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.api.CsiVolume;
import dev.sharedipc.api.Labels;
import dev.sharedipc.api.v1alpha1.Placement;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedMemoryMedium;
import dev.sharedipc.api.v1alpha1.SharedMemorySpec;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SharedMemoryMediaTest {
  @ParameterizedTest(name = "medium={0} driverInstalled={1} inUse={2} -> {3}")
  @CsvSource(
      nullValues = "none",
      value = {
        "none, true, HostPath, HostPath, CSIDriver shm.sharedipc.dev now exists, but moving members to it one by one would split",
        "none, false, CSI, CSI, No CSIDriver shm.sharedipc.dev exists any more",
        "none, true, CSI, CSI, default: the CSIDriver object exists",
        "none, false, HostPath, HostPath, default: no CSIDriver",
        "CSI, true, HostPath, CSI, its instances are replaced whole, one at a time",
        "HostPath, false, CSI, HostPath, its instances are replaced whole, one at a time",
      })
  void withoutAnExplicitMediumTheMediumOfTheGroupsPodsIsKept(
      SharedMemoryMedium asked,
      boolean installed,
      SharedMemoryMedium inUse,
      SharedMemoryMedium chosen,
      String why) {
    SharedMemorySpec spec = new SharedMemorySpec();
    spec.setMedium(asked);

    SharedMemoryMedia.Choice choice = SharedMemoryMedia.choose(spec, installed, inUse);

    assertThat(choice.medium()).isEqualTo(chosen);
    assertThat(choice.message()).contains(why);
  }

  @Test
  void thePodsMediumIsTheOldestPods() {
    SharedIpcGroup g = sameNode();
    Pod csi =
        new GroupRenderer(GroupRenderer.DEFAULT_NODE_SHARED_ROOT, () -> true)
            .render(g)
            .pods()
            .get(0);
    Pod hostPath =
        new GroupRenderer(GroupRenderer.DEFAULT_NODE_SHARED_ROOT, () -> false)
            .render(g)
            .pods()
            .get(1);
    csi.getMetadata().setCreationTimestamp("2026-11-27T10:00:01Z");
    hostPath.getMetadata().setCreationTimestamp("2026-11-27T10:00:00Z");

    assertThat(SharedMemoryMedia.of(csi)).contains(SharedMemoryMedium.CSI);
    assertThat(SharedMemoryMedia.inUse(List.of(csi, hostPath)))
        .isEqualTo(SharedMemoryMedium.HostPath);
    assertThat(SharedMemoryMedia.inUse(List.of())).isNull();
  }

  @ParameterizedTest(name = "medium={0} driverInstalled={1} -> {2}")
  @CsvSource(
      nullValues = "none",
      value = {
        "none, true, CSI, default: the CSIDriver object exists",
        "none, false, HostPath, default: no CSIDriver shm.sharedipc.dev exists; install the driver",
        "CSI, false, CSI, members wait in ContainerCreating until the driver is installed",
        "CSI, true, CSI, spec.sharedMemory.medium: CSI",
        "HostPath, true, HostPath, spec.sharedMemory.medium: HostPath",
      })
  void theSpecDecidesElseTheDriversPresence(
      SharedMemoryMedium asked, boolean installed, SharedMemoryMedium chosen, String why) {
    SharedMemorySpec spec = new SharedMemorySpec();
    spec.setMedium(asked);

    SharedMemoryMedia.Choice choice = SharedMemoryMedia.choose(spec, installed);

    assertThat(choice.medium()).isEqualTo(chosen);
    assertThat(choice.message()).contains(why);
  }

  @Test
  void withTheDriverInstalledSameNodeMembersGetAnInlineCsiVolumeNamingTheirInstance() {
    SharedIpcGroup g = sameNode();
    GroupRenderer renderer = new GroupRenderer(GroupRenderer.DEFAULT_NODE_SHARED_ROOT, () -> true);

    DesiredState desired = renderer.render(g);

    Pod r1 = desired.pods().get(3);
    assertThat(r1.getMetadata().getName()).isEqualTo("sn-1-r");
    assertThat(r1.getSpec().getVolumes())
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.getName()).isEqualTo(GroupRenderer.SHARED_VOLUME);
              assertThat(v.getHostPath()).isNull();
              assertThat(v.getCsi().getDriver()).isEqualTo("shm.sharedipc.dev");
              assertThat(v.getCsi().getVolumeAttributes())
                  .containsExactlyInAnyOrderEntriesOf(
                      java.util.Map.of(
                          CsiVolume.GROUP,
                          "sn",
                          CsiVolume.GROUP_UID,
                          "uid-sn",
                          CsiVolume.INSTANCE,
                          "1",
                          CsiVolume.SIZE,
                          "64Mi",
                          CsiVolume.GID,
                          "2000"));
            });
    assertThat(r1.getSpec().getContainers())
        .allSatisfy(
            c ->
                assertThat(c.getVolumeMounts())
                    .anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/dev/shm")));
    assertThat(r1.getMetadata().getAnnotations())
        .as("the members' group reaches the driver as the gid attribute, not an annotation")
        .doesNotContainKey(Labels.SHARED_DIRECTORY_GID_ANNOTATION);
    assertThat(desired.memory().message())
        .contains("CSI driver shm.sharedipc.dev (default: the CSIDriver object exists)");
  }

  @Test
  void withoutTheDriverSameNodeMembersKeepTheHostPathAndTheConditionSaysWhy() {
    SharedIpcGroup g = sameNode();

    DesiredState desired =
        new GroupRenderer(GroupRenderer.DEFAULT_NODE_SHARED_ROOT, () -> false).render(g);

    assertThat(desired.pods().get(0).getSpec().getVolumes())
        .singleElement()
        .satisfies(
            v ->
                assertThat(v.getHostPath().getPath())
                    .isEqualTo("/dev/shm/sharedipc/ns_sn_uid-sn_0"));
    assertThat(desired.memory().message()).contains("hostPath").contains("install the driver");
  }

  @Test
  void anExplicitHostPathWinsOverAnInstalledDriver() {
    SharedIpcGroup g = sameNode();
    g.getSpec().getSharedMemory().setMedium(SharedMemoryMedium.HostPath);

    List<Pod> pods =
        new GroupRenderer(GroupRenderer.DEFAULT_NODE_SHARED_ROOT, () -> true).render(g).pods();

    assertThat(pods)
        .allSatisfy(p -> assertThat(p.getSpec().getVolumes().get(0).getHostPath()).isNotNull());
  }

  @Test
  void switchingTheMediumChangesTheTemplateHashSoMembersAreReplaced() {
    SharedIpcGroup g = sameNode();
    String hostPath =
        dev.sharedipc.operator.pods.Pods.templateHash(new GroupRenderer().render(g).pods().get(0));
    String csi =
        dev.sharedipc.operator.pods.Pods.templateHash(
            new GroupRenderer(GroupRenderer.DEFAULT_NODE_SHARED_ROOT, () -> true)
                .render(g)
                .pods()
                .get(0));
    assertThat(csi).isNotEqualTo(hostPath);
  }

  private static SharedIpcGroup sameNode() {
    SharedIpcGroup g = group("sn", 2, "64Mi", member("w", null, null), member("r", null, null));
    g.getSpec().setPlacement(Placement.SameNode);
    g.getSpec()
        .getMembers()
        .forEach(
            m -> {
              PodSecurityContext sc = new PodSecurityContext();
              sc.setFsGroup(2000L);
              m.getTemplate().getSpec().setSecurityContext(sc);
            });
    return g;
  }
}
