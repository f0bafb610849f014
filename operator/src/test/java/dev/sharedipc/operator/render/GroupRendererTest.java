package dev.sharedipc.operator.render;

import static dev.sharedipc.operator.Fixtures.group;
import static dev.sharedipc.operator.Fixtures.member;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sharedipc.api.CsiVolume;
import dev.sharedipc.api.Labels;
import dev.sharedipc.api.v1alpha1.Placement;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedMemoryMedium;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
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
    assertThat(pods)
        .extracting(p -> p.getMetadata().getName())
        .containsExactly("md-0", "md-1", "md-2");
    Pod pod = pods.get(2);
    assertThat(pod.getMetadata().getLabels())
        .containsEntry(Labels.GROUP, "md")
        .containsEntry(Labels.INSTANCE, "2")
        .containsEntry(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE);
    assertThat(pod.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(o -> assertThat(o.getUid()).isEqualTo("uid-md"));
    assertThat(pod.getSpec().getVolumes())
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.getName()).isEqualTo(GroupRenderer.SHARED_VOLUME);
              assertThat(v.getEmptyDir().getMedium()).isEqualTo("Memory");
            });
    for (Container c : pod.getSpec().getContainers()) {
      assertThat(c.getVolumeMounts())
          .anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/shm"));
      assertThat(c.getEnv())
          .anySatisfy(
              e -> assertThat(e.getName() + "=" + e.getValue()).isEqualTo("SHAREDIPC_INSTANCE=2"));
    }
  }

  @Test
  void templateHashIsStableChangesWithThePodTemplateButNotWithReplicas() {
    SharedIpcGroup g = group("h", 1, "64Mi", member("w", null, null));
    String first = hashOf(renderer.render(g));
    assertThat(hashOf(renderer.render(g))).isEqualTo(first);
    g.getSpec().setReplicas(5);
    assertThat(hashOf(renderer.render(g))).isEqualTo(first);
    g.getSpec()
        .getMembers()
        .get(0)
        .getTemplate()
        .getSpec()
        .getContainers()
        .get(0)
        .setImage("busybox:2");
    assertThat(hashOf(renderer.render(g))).isNotEqualTo(first);
    g.getSpec()
        .getMembers()
        .get(0)
        .getTemplate()
        .getSpec()
        .getContainers()
        .get(0)
        .setImage("busybox:1.36");
    g.getSpec().getSharedMemory().setSize(new io.fabric8.kubernetes.api.model.Quantity("128Mi"));
    assertThat(hashOf(renderer.render(g))).isNotEqualTo(first);
  }

  private static String hashOf(DesiredState desired) {
    return dev.sharedipc.operator.pods.Pods.templateHash(desired.pods().get(0));
  }

  @Test
  void zeroReplicasRendersNoPods() {
    assertThat(renderer.render(group("z", 0, "64Mi", member("w", null, null))).pods()).isEmpty();
  }

  @Test
  void sameNodeGivesEachMemberItsOwnPodSharingANodeDirectory() {
    SharedIpcGroup g = group("sn", 2, "64Mi", member("w", null, null), member("r", null, null));
    g.getSpec().setPlacement(Placement.SameNode);
    g.getSpec().setHostIPC(true);
    List<Pod> pods = renderer.render(g).pods();
    assertThat(pods)
        .extracting(p -> p.getMetadata().getName())
        .containsExactly("sn-0-w", "sn-0-r", "sn-1-w", "sn-1-r");
    Pod r1 = pods.get(3);
    assertThat(r1.getMetadata().getLabels())
        .containsEntry(Labels.MEMBER, "r")
        .containsEntry(Labels.INSTANCE, "1");
    assertThat(r1.getSpec().getHostIPC()).isTrue();
    assertThat(r1.getSpec().getVolumes())
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.getHostPath().getPath())
                  .as("named with the group's uid")
                  .isEqualTo("/dev/shm/sharedipc/ns_sn_uid-sn_1");
              assertThat(v.getHostPath().getType())
                  .as("made by the node agent; the kubelet waits for it")
                  .isEqualTo("Directory");
              assertThat(v.getEmptyDir()).isNull();
            });
    assertThat(r1.getSpec().getAffinity()).as("unplaced pods are not pinned").isNull();
  }

  @Test
  void aGroupCreatedAgainUnderTheSameNameGetsAnotherDirectory() {
    SharedIpcGroup first = group("sn", 1, "64Mi", member("w", null, null));
    first.getSpec().setPlacement(Placement.SameNode);
    SharedIpcGroup again = group("sn", 1, "64Mi", member("w", null, null));
    again.getSpec().setPlacement(Placement.SameNode);
    again.getMetadata().setUid("uid-sn-again");
    String firstDir =
        renderer.render(first).pods().get(0).getSpec().getVolumes().get(0).getHostPath().getPath();
    String againDir =
        renderer.render(again).pods().get(0).getSpec().getVolumes().get(0).getHostPath().getPath();
    assertThat(againDir).isNotEqualTo(firstDir).endsWith("/ns_sn_uid-sn-again_0");
  }

  static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> directoryGroups() {
    return java.util.stream.Stream.of(
        org.junit.jupiter.params.provider.Arguments.of(
            "common fsGroup", 2000L, 2000L, null, null, null, null, "2000"),
        org.junit.jupiter.params.provider.Arguments.of(
            "fsGroup wins over runAsGroup", 2000L, 2000L, 3000L, 3000L, null, null, "2000"),
        org.junit.jupiter.params.provider.Arguments.of(
            "fsGroups differ: common pod runAsGroup",
            2000L,
            2001L,
            3000L,
            3000L,
            null,
            null,
            "3000"),
        org.junit.jupiter.params.provider.Arguments.of(
            "one fsGroup missing: container runAsGroup",
            2000L,
            null,
            null,
            null,
            4000L,
            4000L,
            "4000"),
        org.junit.jupiter.params.provider.Arguments.of(
            "container runAsGroup overrides the pod's",
            null,
            null,
            3000L,
            3000L,
            4000L,
            null,
            null),
        org.junit.jupiter.params.provider.Arguments.of(
            "nothing in common", 1L, 2L, 3L, 4L, null, null, null),
        org.junit.jupiter.params.provider.Arguments.of(
            "nothing set", null, null, null, null, null, null, null));
  }

  @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
  @org.junit.jupiter.params.provider.MethodSource("directoryGroups")
  void theSharedDirectoryBelongsToTheGroupEveryMemberHolds(
      String name,
      Long fsW,
      Long fsR,
      Long podGroupW,
      Long podGroupR,
      Long containerGroupW,
      Long containerGroupR,
      String expected) {
    SharedIpcGroup g = group("sn", 1, "64Mi", member("w", null, null), member("r", null, null));
    g.getSpec().setPlacement(Placement.SameNode);
    Long[][] settings = {{fsW, podGroupW, containerGroupW}, {fsR, podGroupR, containerGroupR}};
    for (int m = 0; m < 2; m++) {
      var spec = g.getSpec().getMembers().get(m).getTemplate().getSpec();
      spec.setSecurityContext(
          new io.fabric8.kubernetes.api.model.PodSecurityContextBuilder()
              .withFsGroup(settings[m][0])
              .withRunAsGroup(settings[m][1])
              .build());
      spec.getContainers()
          .get(0)
          .setSecurityContext(
              new io.fabric8.kubernetes.api.model.SecurityContextBuilder()
                  .withRunAsGroup(settings[m][2])
                  .build());
    }
    List<Pod> pods = renderer.render(g).pods();
    assertThat(pods)
        .hasSize(2)
        .allSatisfy(
            p -> {
              java.util.Map<String, String> annotations = p.getMetadata().getAnnotations();
              assertThat(annotations.get(Labels.SHARED_DIRECTORY_GID_ANNOTATION))
                  .isEqualTo(expected);
            });
  }

  /** A SameNode group on the CSI driver whose two members set these pod-level group ids. */
  private static SharedIpcGroup csiGroup(Long fsW, Long groupW, Long fsR, Long groupR) {
    SharedIpcGroup g = group("sn", 1, "64Mi", member("w", null, null), member("r", null, null));
    g.getSpec().setPlacement(Placement.SameNode);
    g.getSpec().getSharedMemory().setMedium(SharedMemoryMedium.CSI);
    Long[][] settings = {{fsW, groupW}, {fsR, groupR}};
    for (int m = 0; m < 2; m++) {
      g.getSpec()
          .getMembers()
          .get(m)
          .getTemplate()
          .getSpec()
          .setSecurityContext(
              new io.fabric8.kubernetes.api.model.PodSecurityContextBuilder()
                  .withFsGroup(settings[m][0])
                  .withRunAsGroup(settings[m][1])
                  .build());
    }
    return g;
  }

  private static String csiGid(Pod pod) {
    return pod.getSpec().getVolumes().stream()
        .filter(v -> v.getName().equals(GroupRenderer.SHARED_VOLUME))
        .findFirst()
        .orElseThrow()
        .getCsi()
        .getVolumeAttributes()
        .get(CsiVolume.GID);
  }

  @Test
  void theCsiTmpfsBelongsToTheGroupEveryMemberHoldsAsAHostPathDirectoryWould() {
    // runAsUser/runAsGroup 1000 and no fsGroup: the kubelet sends the driver no group at all
    assertThat(renderer.render(csiGroup(null, 1000L, null, 1000L)).pods())
        .hasSize(2)
        .allSatisfy(p -> assertThat(csiGid(p)).isEqualTo("1000"))
        .allSatisfy(
            p ->
                assertThat(p.getMetadata().getAnnotations())
                    .as("the hostPath annotation is hostPath's")
                    .doesNotContainKey(Labels.SHARED_DIRECTORY_GID_ANNOTATION));
    assertThat(renderer.render(csiGroup(4242L, 1L, 4242L, 2L)).pods())
        .allSatisfy(p -> assertThat(csiGid(p)).isEqualTo("4242"));
    assertThat(renderer.render(csiGroup(null, null, null, null)).pods())
        .as("members that set no group: root's, as for hostPath")
        .allSatisfy(p -> assertThat(csiGid(p)).isEqualTo("0"));
  }

  @Test
  void csiMembersThatSetGroupsWithNoneInCommonAreASpecProblemNamingEachMembersGroups() {
    for (SharedIpcGroup g :
        List.of(
            csiGroup(1000L, null, 2000L, null),
            csiGroup(1000L, null, null, null),
            csiGroup(null, 1000L, null, 2000L))) {
      assertThatThrownBy(() -> renderer.render(g))
          .isInstanceOfSatisfying(
              MergeConflict.class,
              e -> {
                assertThat(e.reason()).isEqualTo(GroupRenderer.SHARED_MEMORY_GROUP_CONFLICT);
                assertThat(e.getMessage())
                    .contains("member w (")
                    .contains("member r (")
                    .contains("1000")
                    .contains("same fsGroup");
              });
    }
  }

  @Test
  void placedSameNodePodsArePinnedToTheirNodeInEveryNodeSelectorTerm() {
    SharedIpcGroup g = group("sn", 1, "64Mi", member("w", null, null));
    g.getSpec().setPlacement(Placement.SameNode);
    g.getSpec()
        .getMembers()
        .get(0)
        .getTemplate()
        .getSpec()
        .setAffinity(
            new io.fabric8.kubernetes.api.model.AffinityBuilder()
                .withNewNodeAffinity()
                .withNewRequiredDuringSchedulingIgnoredDuringExecution()
                .addNewNodeSelectorTerm()
                .addNewMatchExpression()
                .withKey("zone")
                .withOperator("In")
                .withValues("a")
                .endMatchExpression()
                .endNodeSelectorTerm()
                .addNewNodeSelectorTerm()
                .addNewMatchExpression()
                .withKey("zone")
                .withOperator("In")
                .withValues("b")
                .endMatchExpression()
                .endNodeSelectorTerm()
                .endRequiredDuringSchedulingIgnoredDuringExecution()
                .endNodeAffinity()
                .build());
    Pod pod = renderer.renderSameNode(g, java.util.Map.of(0, "node-7")).pods().get(0);
    assertThat(GroupRenderer.pinnedNode(pod)).isEqualTo("node-7");
    assertThat(
            pod.getSpec()
                .getAffinity()
                .getNodeAffinity()
                .getRequiredDuringSchedulingIgnoredDuringExecution()
                .getNodeSelectorTerms())
        .hasSize(2)
        .allSatisfy(
            term -> {
              assertThat(term.getMatchExpressions()).hasSize(1);
              assertThat(term.getMatchFields())
                  .singleElement()
                  .satisfies(f -> assertThat(f.getValues()).containsExactly("node-7"));
            });
    assertThat(
            renderer
                .renderSameNode(g, java.util.Map.of(0, "node-8"))
                .pods()
                .get(0)
                .getMetadata()
                .getAnnotations())
        .as("the pin is not part of the template hash")
        .isEqualTo(pod.getMetadata().getAnnotations());
  }

  @Test
  void aGroupWithoutSharedMemoryIsReportedAsSuchNotAsBadTemplates() {
    // Stored before the CRD required it: the reason says what is missing.
    SharedIpcGroup g = group("nomem", 1, "64Mi", member("w", null, null));
    g.getSpec().setSharedMemory(null);
    assertThatThrownBy(() -> renderer.render(g))
        .isInstanceOfSatisfying(
            MergeConflict.class,
            e -> {
              assertThat(e.reason()).isEqualTo("SharedMemoryMissing");
              assertThat(e.getMessage()).contains("spec.sharedMemory.size is required");
            });
  }

  @Test
  void aSizeOf8EiIsASpecProblemOfItsGroupNotAnArithmeticError() {
    // Stored before the CRD bounded sizes: the operator counts bytes in a long.
    for (Placement placement : Placement.values()) {
      SharedIpcGroup g = group("huge", 1, "8Ei", member("w", null, null));
      g.getSpec().setPlacement(placement);
      assertThatThrownBy(() -> renderer.render(g))
          .as("placement %s", placement)
          .isInstanceOfSatisfying(
              MergeConflict.class,
              e -> {
                assertThat(e.reason()).isEqualTo(GroupRenderer.SIZE_OUT_OF_RANGE);
                assertThat(e.getMessage())
                    .contains("spec.sharedMemory.size 8Ei is not a size the operator")
                    .contains("at most 9223372036854775807 bytes");
              });
    }
    SharedIpcGroup largest = group("largest", 1, "9223372036854775807", member("w", null, "1Gi"));
    largest.getSpec().getSharedMemory().setAccountTo("w");
    assertThat(
            renderer
                .render(largest)
                .pods()
                .get(0)
                .getSpec()
                .getContainers()
                .get(0)
                .getResources()
                .getLimits()
                .get("memory"))
        .as("the limit raised by the size, exactly, without wrapping round")
        .isEqualTo(new Quantity("9223372037928517631"));
  }

  @Test
  void aMemberMountingSomethingElseAtMountPathIsAConflict() {
    SharedIpcGroup g = group("m", 1, "64Mi", member("w", null, null));
    g.getSpec()
        .getMembers()
        .get(0)
        .getTemplate()
        .getSpec()
        .getContainers()
        .get(0)
        .setVolumeMounts(
            List.of(new VolumeMountBuilder().withName("own").withMountPath("/dev/shm").build()));
    assertThatThrownBy(() -> renderer.render(g))
        .isInstanceOf(MergeConflict.class)
        .hasMessageContaining("already mounts volume own at /dev/shm");
  }
}
