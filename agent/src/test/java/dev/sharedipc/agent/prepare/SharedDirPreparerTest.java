package dev.sharedipc.agent.prepare;

import static dev.sharedipc.agent.prepare.SharedDirPreparerFixtures.UID;
import static dev.sharedipc.agent.prepare.SharedDirPreparerFixtures.json;
import static dev.sharedipc.agent.prepare.SharedDirPreparerFixtures.member;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.agent.scan.SharedDirName;
import dev.sharedipc.api.Labels;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SharedDirPreparerTest {
  @Test
  void anOperatorMemberPodAsksForItsInstancesDirectoryAndGroup() {
    assertThat(SharedDirPreparer.wanted(json(member("2000"))))
        .contains(new SharedDirPreparer.Wanted(new SharedDirName("team", "cache", UID, 1), 2000));
  }

  static Stream<Arguments> gids() {
    return Stream.of(
        Arguments.of(null, 0),
        Arguments.of("0", 0),
        Arguments.of("65534", 65534),
        Arguments.of("-5", 0),
        Arguments.of("lots", 0),
        Arguments.of("99999999999", 0));
  }

  @ParameterizedTest(name = "annotation {0} -> gid {1}")
  @MethodSource("gids")
  void aMissingOrUnreadableGroupIsGroupZero(String annotation, int gid) {
    assertThat(SharedDirPreparer.wanted(json(member(annotation))))
        .get()
        .extracting(SharedDirPreparer.Wanted::gid)
        .isEqualTo(gid);
  }

  static Stream<Arguments> notOurs() {
    return Stream.of(
        Arguments.of(
            "without the managed-by label",
            new PodBuilder(member("1"))
                .editMetadata()
                .removeFromLabels(Labels.MANAGED_BY)
                .endMetadata()
                .build()),
        Arguments.of(
            "without a controller",
            new PodBuilder(member("1"))
                .editMetadata()
                .editFirstOwnerReference()
                .withController(false)
                .endOwnerReference()
                .endMetadata()
                .build()),
        Arguments.of(
            "controlled by a group of another name",
            new PodBuilder(member("1"))
                .editMetadata()
                .editFirstOwnerReference()
                .withName("other")
                .endOwnerReference()
                .endMetadata()
                .build()),
        Arguments.of(
            "controlled by something else",
            new PodBuilder(member("1"))
                .editMetadata()
                .editFirstOwnerReference()
                .withKind("ReplicaSet")
                .withApiVersion("apps/v1")
                .endOwnerReference()
                .endMetadata()
                .build()),
        Arguments.of(
            "with an owner uid that is not a UUID",
            new PodBuilder(member("1"))
                .editMetadata()
                .editFirstOwnerReference()
                .withUid("../../etc")
                .endOwnerReference()
                .endMetadata()
                .build()),
        Arguments.of(
            "with an instance label that is not an index",
            new PodBuilder(member("1"))
                .editMetadata()
                .addToLabels(Labels.INSTANCE, "1_x")
                .endMetadata()
                .build()),
        Arguments.of(
            "mounting another directory (a hostPath of its own choosing)",
            new PodBuilder(member("1"))
                .editSpec()
                .editFirstVolume()
                .editHostPath()
                .withPath("/etc")
                .endHostPath()
                .endVolume()
                .endSpec()
                .build()),
        Arguments.of(
            "sharing memory without a hostPath (SamePod or the CSI driver)",
            new PodBuilder(member("1"))
                .editSpec()
                .editFirstVolume()
                .withHostPath(null)
                .withNewEmptyDir()
                .withMedium("Memory")
                .endEmptyDir()
                .endVolume()
                .endSpec()
                .build()),
        Arguments.of(
            "being deleted",
            new PodBuilder(member("1"))
                .editMetadata()
                .withDeletionTimestamp("2026-01-01T00:00:00Z")
                .endMetadata()
                .build()),
        Arguments.of(
            "finished",
            new PodBuilder(member("1")).editStatus().withPhase("Succeeded").endStatus().build()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("notOurs")
  void podsTheOperatorDidNotMakeForAnInstanceAskForNothing(String name, Pod pod) {
    assertThat(SharedDirPreparer.wanted(json(pod))).isEmpty();
  }
}
