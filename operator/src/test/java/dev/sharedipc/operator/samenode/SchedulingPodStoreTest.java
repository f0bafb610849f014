package dev.sharedipc.operator.samenode;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.api.Labels;
import io.fabric8.kubernetes.api.model.ContainerPortBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.Map;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SchedulingPodStoreTest {
  private static final long MI = 1024L * 1024;

  /** One known group: team/cache, uid u-1, sharedMemory.size 512Mi. */
  private final SchedulingPodStore store =
      new SchedulingPodStore(
          (namespace, name, uid) ->
              "team".equals(namespace) && "cache".equals(name) && "u-1".equals(uid)
                  ? OptionalLong.of(512 * MI)
                  : OptionalLong.empty());

  /**
   * A pod claiming node tmpfs; managed and controller say whether it carries the operator's label
   * and a group controller.
   */
  private static Pod claiming(
      String claim,
      boolean managed,
      String ownerKind,
      String ownerName,
      String ownerUid,
      boolean controller) {
    PodBuilder b =
        new PodBuilder()
            .withNewMetadata()
            .withNamespace("team")
            .withName("p")
            .withUid("pod-uid")
            .addToAnnotations(Labels.NODE_SHARED_BYTES_ANNOTATION, claim)
            .endMetadata()
            .withNewSpec()
            .withNodeName("n1")
            .addNewContainer()
            .withName("c")
            .endContainer()
            .endSpec();
    if (managed) {
      b.editMetadata().addToLabels(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE).endMetadata();
    }
    if (ownerKind != null) {
      b.editMetadata()
          .addToOwnerReferences(
              new OwnerReferenceBuilder()
                  .withApiVersion("sharedipc.dev/v1alpha1")
                  .withKind(ownerKind)
                  .withName(ownerName)
                  .withUid(ownerUid)
                  .withController(controller)
                  .build())
          .endMetadata();
    }
    return b.build();
  }

  static Stream<Arguments> claims() {
    String gi = Long.toString(1024 * MI);
    return Stream.of(
        Arguments.of(
            "the operator's own pod is believed",
            claiming(Long.toString(256 * MI), true, "SharedIpcGroup", "cache", "u-1", true),
            Long.toString(256 * MI)),
        Arguments.of(
            "clamped to the group's size",
            claiming(gi, true, "SharedIpcGroup", "cache", "u-1", true),
            Long.toString(512 * MI)),
        Arguments.of(
            "a negative claim is no claim",
            claiming("-4096", true, "SharedIpcGroup", "cache", "u-1", true),
            null),
        Arguments.of(
            "an unreadable claim is no claim",
            claiming("lots", true, "SharedIpcGroup", "cache", "u-1", true),
            null),
        Arguments.of(
            "a tenant's pod without the operator's label",
            claiming(gi, false, "SharedIpcGroup", "cache", "u-1", true),
            null),
        Arguments.of(
            "a pod with no controller",
            claiming(gi, true, "SharedIpcGroup", "cache", "u-1", false),
            null),
        Arguments.of(
            "a pod controlled by something else",
            claiming(gi, true, "ReplicaSet", "cache", "u-1", true),
            null),
        Arguments.of(
            "a pod naming a group that does not exist",
            claiming(gi, true, "SharedIpcGroup", "ghost", "u-9", true),
            null),
        Arguments.of(
            "a pod naming a re-created group (other uid)",
            claiming(gi, true, "SharedIpcGroup", "cache", "u-2", true),
            null));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("claims")
  void nodeSharedBytesAreBelievedOnlyOnOwnedPodsAndOnlyUpToTheGroupsSize(
      String name, Pod pod, String believed) {
    store.put(store.getKey(pod), pod);
    Pod read = store.get(store.getKey(pod));
    Map<String, String> annotations = read.getMetadata().getAnnotations();
    assertThat(annotations == null ? null : annotations.get(Labels.NODE_SHARED_BYTES_ANNOTATION))
        .isEqualTo(believed);
    assertThat(store.values().findFirst().orElseThrow().getMetadata().getAnnotations())
        .isEqualTo(annotations);
  }

  @Test
  void hostPortsLabelsAndAffinityAreKeptForPlacement() {
    Pod pod =
        new PodBuilder()
            .withNewMetadata()
            .withNamespace("team")
            .withName("web")
            .addToLabels("app", "web")
            .addToAnnotations("big", "x".repeat(1000))
            .endMetadata()
            .withNewSpec()
            .withNodeName("n1")
            .withNewAffinity()
            .withNewPodAntiAffinity()
            .endPodAntiAffinity()
            .endAffinity()
            .addNewContainer()
            .withName("c")
            .withImage("nginx")
            .withPorts(
                new ContainerPortBuilder().withContainerPort(80).withHostPort(8080).build(),
                new ContainerPortBuilder().withContainerPort(9090).build())
            .endContainer()
            .endSpec()
            .build();
    Pod stub = SchedulingPodStore.stub(pod);
    assertThat(stub.getMetadata().getLabels()).containsEntry("app", "web");
    assertThat(stub.getMetadata().getAnnotations()).isNullOrEmpty();
    assertThat(stub.getSpec().getAffinity().getPodAntiAffinity()).isNotNull();
    assertThat(stub.getSpec().getContainers().get(0).getPorts())
        .extracting(p -> p.getHostPort())
        .containsExactly(8080);
    assertThat(stub.getSpec().getContainers().get(0).getImage()).isNull();
  }
}
