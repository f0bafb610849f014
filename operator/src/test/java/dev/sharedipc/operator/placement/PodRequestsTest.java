package dev.sharedipc.operator.placement;

import static dev.sharedipc.operator.placement.PlacementFixtures.container;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import org.junit.jupiter.api.Test;

class PodRequestsTest {
  private static final long MI = 1024L * 1024;

  private static PodRequests.Resources of(PodSpec spec) {
    return PodRequests.of(spec);
  }

  @Test
  void containersRequestsAreSummed() {
    PodSpec spec =
        new PodSpecBuilder()
            .addToContainers(
                container("a", "250m", "128Mi"),
                container("b", "1", "1Gi"),
                container("c", null, null))
            .build();
    assertThat(of(spec)).isEqualTo(new PodRequests.Resources(1250, 1152 * MI));
  }

  @Test
  void largestInitContainerRaisesThePodWhenItExceedsTheSum() {
    PodSpec spec =
        new PodSpecBuilder()
            .addToInitContainers(
                container("migrate", "2", "64Mi"), container("warm", "100m", "3Gi"))
            .addToContainers(container("a", "500m", "256Mi"), container("b", "500m", "256Mi"))
            .build();
    // cpu: max(1000m, 2000m); memory: max(512Mi, 3Gi); each resource on its own.
    assertThat(of(spec)).isEqualTo(new PodRequests.Resources(2000, 3072 * MI));
  }

  @Test
  void initContainersSmallerThanTheSumChangeNothing() {
    PodSpec spec =
        new PodSpecBuilder()
            .addToInitContainers(container("init", "100m", "64Mi"))
            .addToContainers(container("a", "500m", "256Mi"), container("b", "500m", "256Mi"))
            .build();
    assertThat(of(spec)).isEqualTo(new PodRequests.Resources(1000, 512 * MI));
  }

  @Test
  void sidecarInitContainersAddToTheSumAndToLaterInitContainers() {
    PodSpec spec =
        new PodSpecBuilder()
            .addToInitContainers(
                new ContainerBuilder(container("proxy", "200m", "100Mi"))
                    .withRestartPolicy("Always")
                    .build(),
                container("migrate", "1", "100Mi"))
            .addToContainers(container("app", "500m", "300Mi"))
            .build();
    // running: app + proxy = 700m / 400Mi; during migrate: migrate + proxy = 1200m / 200Mi.
    assertThat(of(spec)).isEqualTo(new PodRequests.Resources(1200, 400 * MI));
  }

  @Test
  void overheadIsAddedOnTop() {
    PodSpec spec =
        new PodSpecBuilder()
            .addToContainers(container("a", "500m", "256Mi"))
            .addToOverhead("cpu", new Quantity("250m"))
            .addToOverhead("memory", new Quantity("120Mi"))
            .build();
    assertThat(of(spec)).isEqualTo(new PodRequests.Resources(750, 376 * MI));
  }

  @Test
  void aLimitWithoutARequestCountsAsTheRequest() {
    PodSpec spec =
        new PodSpecBuilder()
            .addToContainers(
                new ContainerBuilder()
                    .withName("a")
                    .withNewResources()
                    .addToLimits("cpu", new Quantity("1500m"))
                    .addToLimits("memory", new Quantity("2Gi"))
                    .addToRequests("memory", new Quantity("1Gi"))
                    .endResources()
                    .build())
            .addToInitContainers(
                new ContainerBuilder()
                    .withName("i")
                    .withNewResources()
                    .addToLimits("memory", new Quantity("4Gi"))
                    .endResources()
                    .build())
            .build();
    // cpu from the limit; the memory request wins over the memory limit; the init limit counts.
    assertThat(of(spec)).isEqualTo(new PodRequests.Resources(1500, 4096 * MI));
  }

  @Test
  void podLevelResourcesReplaceTheContainersSum() {
    PodSpec spec =
        new PodSpecBuilder()
            .addToContainers(container("a", "500m", "256Mi"), container("b", "500m", "256Mi"))
            .withNewResources()
            .addToRequests("memory", new Quantity("2Gi"))
            .endResources()
            .build();
    assertThat(of(spec)).isEqualTo(new PodRequests.Resources(1000, 2048 * MI));
  }

  @Test
  void fractionalQuantitiesRoundUp() {
    assertThat(PodRequests.cpuMillis(new Quantity("0.0001"))).isEqualTo(1);
    assertThat(PodRequests.cpuMillis(new Quantity("1.5"))).isEqualTo(1500);
    assertThat(PodRequests.memoryBytes(new Quantity("1.5Gi"))).isEqualTo(1536 * MI);
    assertThat(PodRequests.memoryBytes(new Quantity("1G"))).isEqualTo(1_000_000_000L);
  }

  @Test
  void anEmptyPodAsksForNothing() {
    assertThat(of(new PodSpecBuilder().addToContainers(container("a", null, null)).build()))
        .isEqualTo(PodRequests.Resources.NONE);
    assertThat(of(null)).isEqualTo(PodRequests.Resources.NONE);
  }

  @Test
  void extendedResourcesFollowTheSameRuleInWholeUnits() {
    // Apps: 1 + 1 GPU; the init container asks 3 (more than the sum); a limit alone is the request;
    // hugepages in bytes; a zero request is no request.
    PodSpec spec =
        new PodSpecBuilder()
            .addToContainers(
                new ContainerBuilder()
                    .withName("a")
                    .withNewResources()
                    .addToLimits("nvidia.com/gpu", new Quantity("1"))
                    .addToRequests("hugepages-2Mi", new Quantity("4Mi"))
                    .addToRequests("example.com/foo", new Quantity("0"))
                    .endResources()
                    .build())
            .addToContainers(
                new ContainerBuilder()
                    .withName("b")
                    .withNewResources()
                    .addToRequests("nvidia.com/gpu", new Quantity("1"))
                    .addToLimits("nvidia.com/gpu", new Quantity("1"))
                    .endResources()
                    .build())
            .addToInitContainers(
                new ContainerBuilder()
                    .withName("i")
                    .withNewResources()
                    .addToRequests("nvidia.com/gpu", new Quantity("3"))
                    .endResources()
                    .build())
            .build();
    assertThat(of(spec).other())
        .containsExactlyInAnyOrderEntriesOf(
            java.util.Map.of("nvidia.com/gpu", 3L, "hugepages-2Mi", 4 * MI));
  }

  @Test
  void podLevelResourcesKeepTheContainersExtendedResources() {
    PodSpec spec =
        new PodSpecBuilder()
            .addToContainers(
                new ContainerBuilder()
                    .withName("a")
                    .withNewResources()
                    .addToRequests("nvidia.com/gpu", new Quantity("2"))
                    .addToRequests("memory", new Quantity("1Gi"))
                    .endResources()
                    .build())
            .withNewResources()
            .addToRequests("memory", new Quantity("2Gi"))
            .endResources()
            .build();
    assertThat(of(spec))
        .isEqualTo(new PodRequests.Resources(0, 2048 * MI, java.util.Map.of("nvidia.com/gpu", 2L)));
  }

  /** Nothing of ours bounds what a pod asks for: one asking for more than a long holds fills. */
  @Test
  void amountsBeyondWhatALongHoldsAreReadAsTheMostNotThrown() {
    PodSpec spec =
        new PodSpecBuilder()
            .addToContainers(
                container("huge", "10E", "10Ei"),
                container("more", "1", "1Gi"),
                new ContainerBuilder()
                    .withName("gpu")
                    .withNewResources()
                    .addToRequests("nvidia.com/gpu", new Quantity("10E"))
                    .endResources()
                    .build())
            .build();
    PodRequests.Resources asked = of(spec);
    assertThat(asked.cpuMillis()).isEqualTo(Long.MAX_VALUE);
    assertThat(asked.memoryBytes()).isEqualTo(Long.MAX_VALUE);
    assertThat(asked.other()).containsEntry("nvidia.com/gpu", Long.MAX_VALUE);
    assertThat(asked.plus(asked).memoryBytes()).isEqualTo(Long.MAX_VALUE);
  }
}
