package dev.sharedipc.agent.csi;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MountTableTest {
  @Test
  void readsTheMountPointFieldAndUndoesTheKernelsEscapes() {
    String mountinfo =
        """
        22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
        95 22 0:50 / /var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/shm/mount rw,nosuid,nodev shared:40 - tmpfs sharedipc-shm rw,size=65536k,mode=2770,gid=4242
        96 22 0:51 / /tmp/with\\040space rw - tmpfs tmpfs rw
        """;

    assertThat(MountTable.mountPoints(mountinfo))
        .containsExactlyInAnyOrder(
            "/", "/var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/shm/mount", "/tmp/with space");
  }
}
