package dev.sharedipc.agent.csi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class VolumeRequestTest {
  private static final String UID = "0b6c4a4e-3a52-4a8f-9d7e-1f2b3c4d5e6f";

  private static Map<String, String> attributes() {
    return CsiClient.attributes(
        "team-a", "trainer", UID, 2, "64Mi", "trainer-2-0", "11111111-2222-3333-4444-555555555555");
  }

  @Test
  void theInstanceIsKeyedByNamespaceGroupUidAndIndex() {
    VolumeRequest r = VolumeRequest.parse(attributes());

    assertThat(r.instance().directoryName()).isEqualTo("team-a_trainer_" + UID + "_2");
    assertThat(r.sizeBytes()).isEqualTo(64L * 1024 * 1024);
    assertThat(r.podName()).isEqualTo("trainer-2-0");
  }

  @Test
  void withoutPodInfoTheRequestIsInvalidAndSaysWhy() {
    Map<String, String> a = attributes();
    a.remove(VolumeRequest.POD_NAMESPACE);

    assertThatThrownBy(() -> VolumeRequest.parse(a))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("podInfoOnMount");
  }

  @Test
  void aGroupUidThatIsNoUidIsInvalid() {
    Map<String, String> a = attributes();
    a.put(VolumeRequest.GROUP_UID, "../../etc");

    assertThatThrownBy(() -> VolumeRequest.parse(a))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("do not name an instance");
  }

  @Test
  void sizesAreKubernetesQuantitiesAndPositive() {
    assertThat(VolumeRequest.sizeBytes("1Gi")).isEqualTo(1L << 30);
    assertThat(VolumeRequest.sizeBytes("1M")).isEqualTo(1_000_000L);
    assertThatThrownBy(() -> VolumeRequest.sizeBytes("0")).hasMessageContaining("positive");
    assertThatThrownBy(() -> VolumeRequest.sizeBytes("lots"))
        .hasMessageContaining("not a Kubernetes quantity");
  }

  @Test
  void theGidAttributeIsOptionalAndANonNegativeInteger() {
    assertThat(VolumeRequest.parse(attributes()).gid()).isNull();
    Map<String, String> a = attributes();
    a.put(VolumeRequest.GID, "1000");
    assertThat(VolumeRequest.parse(a).gid()).isEqualTo(1000);
    assertThat(InstanceVolumes.tmpfsGid(VolumeRequest.parse(a), 4242)).isEqualTo(1000);
    assertThat(InstanceVolumes.tmpfsGid(VolumeRequest.parse(attributes()), 4242)).isEqualTo(4242);
    for (String bad : new String[] {"-1", "staff", "1e3", "4294967296"}) {
      a.put(VolumeRequest.GID, bad);
      assertThatThrownBy(() -> VolumeRequest.parse(a))
          .as("gid %s", bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("gid=" + bad);
    }
  }
}
