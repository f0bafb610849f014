package dev.sharedipc.agent.attribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CgroupParserTest {
  static final String UID = "0f3c8e2a-5b1d-4c6e-9a7f-1234567890ab";
  static final String UNDERSCORED = UID.replace('-', '_');
  static final String CID = "4b1e0f6c2d3a49587766554433221100ffeeddccbbaa99887766554433221100";

  static Stream<Arguments> layouts() {
    return Stream.of(
        Arguments.of(
            "v2 systemd containerd",
            "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
                + UNDERSCORED
                + ".slice/cri-containerd-"
                + CID
                + ".scope\n",
            UID,
            "containerd",
            CID),
        Arguments.of(
            "v2 systemd guaranteed (no qos slice)",
            "0::/kubepods.slice/kubepods-pod"
                + UNDERSCORED
                + ".slice/cri-containerd-"
                + CID
                + ".scope\n",
            UID,
            "containerd",
            CID),
        Arguments.of(
            "v2 systemd CRI-O",
            "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"
                + UNDERSCORED
                + ".slice/crio-"
                + CID
                + ".scope\n",
            UID,
            "crio",
            CID),
        Arguments.of(
            "v2 systemd CRI-O conmon scope is still the pod",
            "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"
                + UNDERSCORED
                + ".slice/crio-conmon-"
                + CID
                + ".scope\n",
            UID,
            null,
            null),
        Arguments.of(
            "v2 systemd dockershim / cri-dockerd",
            "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
                + UNDERSCORED
                + ".slice/docker-"
                + CID
                + ".scope\n",
            UID,
            "docker",
            CID),
        Arguments.of(
            "v2 cgroupfs containerd",
            "0::/kubepods/burstable/pod" + UID + "/" + CID + "\n",
            UID,
            null,
            CID),
        Arguments.of(
            "v2 kind node (kubelet.slice nesting)",
            "0::/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod"
                + UNDERSCORED
                + ".slice/cri-containerd-"
                + CID
                + ".scope\n",
            UID,
            "containerd",
            CID),
        Arguments.of(
            "v1 cgroupfs, every hierarchy",
            "12:pids:/kubepods/besteffort/pod"
                + UID
                + "/"
                + CID
                + "\n"
                + "11:memory:/kubepods/besteffort/pod"
                + UID
                + "/"
                + CID
                + "\n"
                + "1:name=systemd:/kubepods/besteffort/pod"
                + UID
                + "/"
                + CID
                + "\n"
                + "0::/\n",
            UID,
            null,
            CID),
        Arguments.of(
            "v1 cgroupfs guaranteed",
            "4:memory:/kubepods/pod" + UID + "/" + CID + "\n",
            UID,
            null,
            CID),
        Arguments.of(
            "v1 systemd containerd",
            "9:memory:/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
                + UNDERSCORED
                + ".slice/cri-containerd-"
                + CID
                + ".scope\n",
            UID,
            "containerd",
            CID),
        Arguments.of(
            "k3s v1 (cgroupfs under the k3s agent)",
            "10:cpuset:/kubepods/besteffort/pod"
                + UID
                + "/"
                + CID
                + "\n1:name=systemd:/system.slice/k3s.service\n",
            UID,
            null,
            CID),
        Arguments.of(
            "k3s v2 rootless/k3s-in-docker nesting",
            "0::/docker/" + CID + "/kubepods/burstable/pod" + UID + "/" + CID + "\n",
            UID,
            null,
            CID),
        Arguments.of(
            "upper-case uid is normalised",
            "0::/kubepods/burstable/pod" + UID.toUpperCase() + "/" + CID + "\n",
            UID,
            null,
            CID),
        Arguments.of(
            "plain docker container: no pod",
            "0::/system.slice/docker-" + CID + ".scope\n",
            null,
            "docker",
            CID),
        Arguments.of(
            "docker cgroupfs v1: no pod", "4:memory:/docker/" + CID + "\n", null, "docker", CID),
        Arguments.of("host service: no pod", "0::/system.slice/sshd.service\n", null, null, null),
        Arguments.of("init: no pod", "0::/init.scope\n", null, null, null),
        Arguments.of(
            "kubepods slice itself (not a pod): no pod",
            "0::/kubepods.slice/kubepods-besteffort.slice\n",
            null,
            null,
            null),
        Arguments.of(
            "a pod-looking name that is not a path element: no pod",
            "0::/user.slice/mypod" + UID + "x/foo\n",
            null,
            null,
            null),
        Arguments.of("empty file", "", null, null, null),
        Arguments.of(
            "garbage lines are ignored, a good one still counts",
            "garbage\n::\nxx:memory:/kubepods/pod"
                + UID
                + "/a\n\n0::/kubepods/burstable/pod"
                + UID
                + "/"
                + CID
                + "\n",
            UID,
            null,
            CID),
        Arguments.of("relative path ignored", "0::kubepods/pod" + UID + "\n", null, null, null));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("layouts")
  void readsPodUidFromEveryLayout(
      String layout, String content, String podUid, String runtime, String containerId) {
    CgroupInfo info = CgroupParser.parse(content);
    assertThat(info.podUid()).as(layout).isEqualTo(podUid);
    assertThat(info.runtime()).as(layout).isEqualTo(runtime);
    assertThat(info.containerId()).as(layout).isEqualTo(containerId);
    assertThat(info.conflicting()).isFalse();
  }

  @org.junit.jupiter.api.Test
  void linesNamingDifferentPodsGiveNoPod() {
    String other = "11111111-2222-3333-4444-555555555555";
    CgroupInfo info =
        CgroupParser.parse(
            "11:memory:/kubepods/besteffort/pod"
                + UID
                + "/"
                + CID
                + "\n4:pids:/kubepods/besteffort/pod"
                + other
                + "/"
                + CID
                + "\n");
    assertThat(info.podUid()).isNull();
    assertThat(info.conflicting()).isTrue();
  }
}
