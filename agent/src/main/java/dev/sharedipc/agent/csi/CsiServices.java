package dev.sharedipc.agent.csi;

import dev.sharedipc.agent.csi.proto.ControllerGetCapabilitiesRequest;
import dev.sharedipc.agent.csi.proto.ControllerGetCapabilitiesResponse;
import dev.sharedipc.agent.csi.proto.ControllerGrpc;
import dev.sharedipc.agent.csi.proto.ControllerServiceCapability;
import dev.sharedipc.agent.csi.proto.GetPluginCapabilitiesRequest;
import dev.sharedipc.agent.csi.proto.GetPluginCapabilitiesResponse;
import dev.sharedipc.agent.csi.proto.GetPluginInfoRequest;
import dev.sharedipc.agent.csi.proto.GetPluginInfoResponse;
import dev.sharedipc.agent.csi.proto.IdentityGrpc;
import dev.sharedipc.agent.csi.proto.NodeGetCapabilitiesRequest;
import dev.sharedipc.agent.csi.proto.NodeGetCapabilitiesResponse;
import dev.sharedipc.agent.csi.proto.NodeGetInfoRequest;
import dev.sharedipc.agent.csi.proto.NodeGetInfoResponse;
import dev.sharedipc.agent.csi.proto.NodeGrpc;
import dev.sharedipc.agent.csi.proto.NodePublishVolumeRequest;
import dev.sharedipc.agent.csi.proto.NodePublishVolumeResponse;
import dev.sharedipc.agent.csi.proto.NodeServiceCapability;
import dev.sharedipc.agent.csi.proto.NodeUnpublishVolumeRequest;
import dev.sharedipc.agent.csi.proto.NodeUnpublishVolumeResponse;
import dev.sharedipc.agent.csi.proto.ProbeRequest;
import dev.sharedipc.agent.csi.proto.ProbeResponse;
import dev.sharedipc.agent.csi.proto.ValidateVolumeCapabilitiesRequest;
import dev.sharedipc.agent.csi.proto.ValidateVolumeCapabilitiesResponse;
import dev.sharedipc.agent.csi.proto.VolumeCapability;
import io.grpc.BindableService;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The three CSI services of {@code shm.sharedipc.dev}: Identity, a Controller that reports no
 * capabilities (csi-sanity asks it of node plugins too), and Node with NodePublishVolume and
 * NodeUnpublishVolume over {@link InstanceVolumes}. Only argument checks and the mapping of
 * failures to CSI status codes live here; every decision is in {@link InstanceVolumes} and {@link
 * Membership}. Methods not written in csi.proto (NodeStageVolume, CreateVolume, ...) answer
 * UNIMPLEMENTED, as the specification allows for capabilities a plugin does not report.
 */
public final class CsiServices {
  public static final String DRIVER_NAME = dev.sharedipc.api.CsiVolume.DRIVER;
  private static final Logger LOG = LoggerFactory.getLogger(CsiServices.class);

  private final InstanceVolumes volumes;
  private final String nodeId;
  private final String version;

  public CsiServices(InstanceVolumes volumes, String nodeId, String version) {
    this.volumes = volumes;
    this.nodeId = nodeId;
    this.version = version;
  }

  public List<BindableService> all() {
    return List.of(new Identity(), new Controller(), new Node());
  }

  final class Identity extends IdentityGrpc.IdentityImplBase {
    @Override
    public void getPluginInfo(
        GetPluginInfoRequest request, StreamObserver<GetPluginInfoResponse> out) {
      reply(
          out,
          GetPluginInfoResponse.newBuilder()
              .setName(DRIVER_NAME)
              .setVendorVersion(version)
              .build());
    }

    @Override
    public void getPluginCapabilities(
        GetPluginCapabilitiesRequest request, StreamObserver<GetPluginCapabilitiesResponse> out) {
      // No CONTROLLER_SERVICE: volumes are ephemeral inline, made and freed on the node.
      reply(out, GetPluginCapabilitiesResponse.getDefaultInstance());
    }

    @Override
    public void probe(ProbeRequest request, StreamObserver<ProbeResponse> out) {
      reply(out, ProbeResponse.getDefaultInstance());
    }
  }

  static final class Controller extends ControllerGrpc.ControllerImplBase {
    @Override
    public void validateVolumeCapabilities(
        ValidateVolumeCapabilitiesRequest request,
        StreamObserver<ValidateVolumeCapabilitiesResponse> out) {
      handle(
          out,
          "ValidateVolumeCapabilities",
          request.getVolumeId(),
          () -> {
            require(!request.getVolumeId().isEmpty(), "volume_id is missing");
            require(request.getVolumeCapabilitiesCount() > 0, "volume_capabilities is missing");
            throw new NoSuchVolume(
                "no volume "
                    + request.getVolumeId()
                    + ": "
                    + DRIVER_NAME
                    + " serves ephemeral inline volumes only, which exist on their node and have no id a controller knows");
          });
    }

    @Override
    public void controllerGetCapabilities(
        ControllerGetCapabilitiesRequest request,
        StreamObserver<ControllerGetCapabilitiesResponse> out) {
      // Never called by a kubelet (no CONTROLLER_SERVICE plugin capability). csi-sanity v5.4.0 asks
      // it even of node
      // plugins and fails on an empty list (protobuf sends none, Go reads nil);
      // SINGLE_NODE_MULTI_WRITER is the one
      // capability that is a property of the volumes, not an RPC, and it is true: members on one
      // node all write.
      reply(
          out,
          ControllerGetCapabilitiesResponse.newBuilder()
              .addCapabilities(
                  ControllerServiceCapability.newBuilder()
                      .setRpc(
                          ControllerServiceCapability.RPC
                              .newBuilder()
                              .setType(
                                  ControllerServiceCapability.RPC.Type.SINGLE_NODE_MULTI_WRITER)))
              .build());
    }
  }

  final class Node extends NodeGrpc.NodeImplBase {
    @Override
    public void nodeGetInfo(NodeGetInfoRequest request, StreamObserver<NodeGetInfoResponse> out) {
      reply(out, NodeGetInfoResponse.newBuilder().setNodeId(nodeId).build());
    }

    @Override
    public void nodeGetCapabilities(
        NodeGetCapabilitiesRequest request, StreamObserver<NodeGetCapabilitiesResponse> out) {
      // VOLUME_MOUNT_GROUP: the kubelet hands the pod's fsGroup to the driver (and chowns nothing);
      // the tmpfs's group is the operator's gid attribute, else that fsGroup (InstanceVolumes).
      reply(
          out,
          NodeGetCapabilitiesResponse.newBuilder()
              .addCapabilities(
                  NodeServiceCapability.newBuilder()
                      .setRpc(
                          NodeServiceCapability.RPC
                              .newBuilder()
                              .setType(NodeServiceCapability.RPC.Type.VOLUME_MOUNT_GROUP)))
              .build());
    }

    @Override
    public void nodePublishVolume(
        NodePublishVolumeRequest request, StreamObserver<NodePublishVolumeResponse> out) {
      handle(
          out,
          "NodePublishVolume",
          request.getVolumeId(),
          () -> {
            require(!request.getVolumeId().isEmpty(), "volume_id is missing");
            require(!request.getTargetPath().isEmpty(), "target_path is missing");
            require(request.hasVolumeCapability(), "volume_capability is missing");
            require(
                request.getVolumeCapability().hasMount(),
                "only mount volumes are served (block access is not a tmpfs)");
            VolumeRequest volume = VolumeRequest.parse(request.getVolumeContextMap());
            volumes.publish(
                request.getVolumeId(),
                Path.of(request.getTargetPath()),
                request.getReadonly(),
                mountGroup(request.getVolumeCapability().getMount()),
                volume);
            return NodePublishVolumeResponse.getDefaultInstance();
          });
    }

    @Override
    public void nodeUnpublishVolume(
        NodeUnpublishVolumeRequest request, StreamObserver<NodeUnpublishVolumeResponse> out) {
      handle(
          out,
          "NodeUnpublishVolume",
          request.getVolumeId(),
          () -> {
            require(!request.getVolumeId().isEmpty(), "volume_id is missing");
            require(!request.getTargetPath().isEmpty(), "target_path is missing");
            volumes.unpublish(request.getVolumeId(), Path.of(request.getTargetPath()));
            return NodeUnpublishVolumeResponse.getDefaultInstance();
          });
    }
  }

  /** The pod's fsGroup as the kubelet passes it; 0 (root's group) when the pod sets none. */
  static int mountGroup(VolumeCapability.MountVolume mount) {
    String group = mount.getVolumeMountGroup();
    if (group.isEmpty()) {
      return 0;
    }
    try {
      int gid = Integer.parseInt(group);
      require(gid >= 0, "volume_mount_group " + group + " is negative");
      return gid;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "volume_mount_group " + group + " is not a numeric group id", e);
    }
  }

  /** The volume id names no volume (NOT_FOUND). */
  static final class NoSuchVolume extends RuntimeException {
    NoSuchVolume(String message) {
      super(message);
    }
  }

  interface Call<T> {
    T run() throws Exception;
  }

  private static <T> void handle(
      StreamObserver<T> out, String method, String volumeId, Call<T> call) {
    T response;
    try {
      response = call.run();
    } catch (IllegalArgumentException e) {
      fail(out, method, volumeId, Status.INVALID_ARGUMENT, e);
      return;
    } catch (Membership.Refused e) {
      fail(out, method, volumeId, Status.PERMISSION_DENIED, e);
      return;
    } catch (Membership.Unavailable e) {
      fail(out, method, volumeId, Status.UNAVAILABLE, e);
      return;
    } catch (NoSuchVolume e) {
      fail(out, method, volumeId, Status.NOT_FOUND, e);
      return;
    } catch (InstanceVolumes.Conflict e) {
      fail(out, method, volumeId, Status.ALREADY_EXISTS, e);
      return;
    } catch (InstanceVolumes.Incompatible e) {
      fail(out, method, volumeId, Status.FAILED_PRECONDITION, e);
      return;
    } catch (Exception e) {
      fail(out, method, volumeId, Status.INTERNAL, e);
      return;
    }
    reply(out, response);
  }

  private static void fail(
      StreamObserver<?> out, String method, String volumeId, Status status, Exception e) {
    LOG.warn(
        "action=refuse method={} volume={} code={} reason=\"{}\"",
        method,
        volumeId,
        status.getCode(),
        e.getMessage());
    out.onError(new StatusRuntimeException(status.withDescription(method + ": " + e.getMessage())));
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  private static <T> void reply(StreamObserver<T> out, T response) {
    out.onNext(response);
    out.onCompleted();
  }
}
