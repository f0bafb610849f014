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

  @Test
  void eachMountPointShowsTheMountOnTopWithItsSuperblockRootAndReadOnlyFlag() {
    String mountinfo =
        """
        22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
        90 22 0:50 / /state/instances/ns_g_u_0 rw,nosuid,nodev shared:39 - tmpfs sharedipc-shm rw,size=8192k
        95 22 0:49 / /pods/u/mount rw,nosuid,nodev shared:40 - tmpfs sharedipc-shm rw,size=8192k
        96 95 0:50 / /pods/u/mount ro,nosuid,nodev shared:39 - tmpfs sharedipc-shm rw,size=8192k
        97 22 8:1 /srv/data /pods/v/mount rw shared:1 - ext4 /dev/sda1 rw
        """;

    var mounts = MountTable.mounts(mountinfo);

    MountTable.Mount instance = mounts.get("/state/instances/ns_g_u_0");
    MountTable.Mount target = mounts.get("/pods/u/mount");
    assertThat(target.device()).as("the later of two stacked mounts").isEqualTo("0:50");
    assertThat(target.readOnly()).isTrue();
    assertThat(target.sameFilesystem(instance)).isTrue();
    assertThat(target.fsType()).isEqualTo("tmpfs");
    assertThat(target.source()).isEqualTo("sharedipc-shm");
    assertThat(instance.readOnly()).isFalse();
    MountTable.Mount bindOfASubdirectory = mounts.get("/pods/v/mount");
    assertThat(bindOfASubdirectory.root()).isEqualTo("/srv/data");
    assertThat(bindOfASubdirectory.sameFilesystem(mounts.get("/"))).isFalse();
  }
}
