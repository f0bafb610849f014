package dev.sharedipc.agent.csi;

import dev.sharedipc.agent.csi.proto.IdentityGrpc;
import dev.sharedipc.agent.csi.proto.NodeGrpc;
import dev.sharedipc.agent.csi.proto.NodePublishVolumeRequest;
import dev.sharedipc.agent.csi.proto.NodeUnpublishVolumeRequest;
import dev.sharedipc.agent.csi.proto.VolumeCapability;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Calls the plugin through its UNIX socket as the kubelet does for an ephemeral inline volume: the
 * volume attributes the operator renders plus the pod information of {@code podInfoOnMount: true},
 * a mount capability with the pod's fsGroup as volume_mount_group. Shared with the e2e module
 * through the agent's test-jar (CsiVolumeE2E stands in for the kubelet of a KWOK node with it).
 */
public final class CsiClient implements AutoCloseable {
  private final EventLoopGroup group = new EpollEventLoopGroup(1);
  private final ManagedChannel channel;

  public CsiClient(Path socket) {
    channel =
        NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
            .eventLoopGroup(group)
            .channelType(EpollDomainSocketChannel.class)
            .usePlaintext()
            .build();
  }

  NodeGrpc.NodeBlockingStub node() {
    return NodeGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  IdentityGrpc.IdentityBlockingStub identity() {
    return IdentityGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  /** The kubelet's volume attributes for a member pod of {@code group}'s instance {@code index}. */
  public static Map<String, String> attributes(
      String namespace,
      String group,
      String groupUid,
      int index,
      String size,
      String podName,
      String podUid) {
    Map<String, String> a = new HashMap<>();
    a.put(VolumeRequest.GROUP, group);
    a.put(VolumeRequest.GROUP_UID, groupUid);
    a.put(VolumeRequest.INSTANCE, String.valueOf(index));
    a.put(VolumeRequest.SIZE, size);
    a.put(VolumeRequest.POD_NAME, podName);
    a.put(VolumeRequest.POD_NAMESPACE, namespace);
    a.put(VolumeRequest.POD_UID, podUid);
    a.put("csi.storage.k8s.io/ephemeral", "true");
    return a;
  }

  public void publish(String volumeId, Path target, int fsGroup, Map<String, String> attributes) {
    publish(volumeId, target, fsGroup, attributes, false);
  }

  /** The fsGroup of a pod that sets none: the kubelet then sends no volume_mount_group. */
  public static final int NO_FS_GROUP = -1;

  /** As the kubelet publishes a volume the pod mounts with {@code readOnly: true}. */
  public void publish(
      String volumeId, Path target, int fsGroup, Map<String, String> attributes, boolean readOnly) {
    VolumeCapability.MountVolume.Builder mount = VolumeCapability.MountVolume.newBuilder();
    if (fsGroup != NO_FS_GROUP) {
      mount.setVolumeMountGroup(String.valueOf(fsGroup));
    }
    node()
        .nodePublishVolume(
            NodePublishVolumeRequest.newBuilder()
                .setVolumeId(volumeId)
                .setTargetPath(target.toString())
                .setVolumeCapability(
                    VolumeCapability.newBuilder()
                        .setMount(mount)
                        .setAccessMode(
                            VolumeCapability.AccessMode.newBuilder()
                                .setMode(VolumeCapability.AccessMode.Mode.SINGLE_NODE_WRITER)))
                .putAllVolumeContext(attributes)
                .setReadonly(readOnly)
                .build());
  }

  public void unpublish(String volumeId, Path target) {
    node()
        .nodeUnpublishVolume(
            NodeUnpublishVolumeRequest.newBuilder()
                .setVolumeId(volumeId)
                .setTargetPath(target.toString())
                .build());
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }
}
