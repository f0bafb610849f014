package dev.sharedipc.agent.csi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The form of a kubelet's CSI target path, read without touching the disk. */
class KubeletTargetsTest {
  static final String UID = "6c1a7f1e-0b5e-4b39-9d59-3c1b3f9b8d11";
  final KubeletTargets targets = new KubeletTargets(Path.of("/var/lib/kubelet"));

  @Test
  void theKubeletsTargetOfACsiVolumeNamesItsPod() {
    assertThat(
            targets.podUid(
                Path.of("/var/lib/kubelet/pods/" + UID + "/volumes/kubernetes.io~csi/shm/mount")))
        .isEqualTo(UID);
    // a static pod's UID is the kubelet's hash of its manifest; a PersistentVolume's name has dots
    assertThat(
            targets.podUid(
                Path.of(
                    "/var/lib/kubelet/pods/0f4a6d5cbd5e0c4e1c4f3e6a1b2c3d4e/volumes/kubernetes.io~csi/pv.a-1/mount")))
        .isEqualTo("0f4a6d5cbd5e0c4e1c4f3e6a1b2c3d4e");
  }

  @Test
  void everyOtherPathIsRefusedNamingTheForm() {
    for (String bad :
        new String[] {
          "/var/lib/kubelet/pods/" + UID + "/volumes/kubernetes.io~csi/shm",
          "/var/lib/kubelet/pods/" + UID + "/volumes/kubernetes.io~csi/shm/mount/deeper",
          "/var/lib/kubelet/pods/" + UID + "/volumes/kubernetes.io~empty-dir/shm/mount",
          "/var/lib/kubelet/pods/" + UID + "/volumes/kubernetes.io~csi/../../../../../etc/mount",
          "/var/lib/kubelet/pods/" + UID + "/volumes/kubernetes.io~csi/./shm/mount",
          "/var/lib/kubelet/pods/../plugins/x/volumes/kubernetes.io~csi/shm/mount",
          "/var/lib/kubelet/plugins/shm.sharedipc.dev/state/state.json",
          "/etc",
          "var/lib/kubelet/pods/" + UID + "/volumes/kubernetes.io~csi/shm/mount",
          "/other/kubelet/pods/" + UID + "/volumes/kubernetes.io~csi/shm/mount"
        }) {
      assertThatThrownBy(() -> targets.podUid(Path.of(bad)))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("/var/lib/kubelet/pods/<pod uid>/volumes/kubernetes.io~csi/");
    }
  }

  @Test
  void theKubeletRootIsConfigurable() {
    KubeletTargets k3s = new KubeletTargets(Path.of("/var/lib/rancher/k3s/agent/kubelet/"));
    assertThat(
            k3s.podUid(
                Path.of(
                    "/var/lib/rancher/k3s/agent/kubelet/pods/"
                        + UID
                        + "/volumes/kubernetes.io~csi/shm/mount")))
        .isEqualTo(UID);
    assertThatThrownBy(
            () ->
                k3s.podUid(
                    Path.of(
                        "/var/lib/kubelet/pods/" + UID + "/volumes/kubernetes.io~csi/shm/mount")))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
