package dev.sharedipc.agent.cli;

import dev.sharedipc.agent.csi.CsiDriver;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code csi}: the CSI node plugin {@code shm.sharedipc.dev}. */
@Command(
    name = "csi",
    mixinStandardHelpOptions = true,
    description = {
      "The CSI node plugin shm.sharedipc.dev: gives the member pods of a SameNode instance one shared tmpfs of exactly the "
          + "instance's size (CSI ephemeral inline volumes). The first publish of an instance mounts the tmpfs under "
          + "--state-dir (mode 2770, group the volume's gid attribute, else the pod's fsGroup), each member's volume is a bind mount of it, the last "
          + "unpublish unmounts it. With an API server (--kubeconfig, or in-cluster) only pods controlled by the group and "
          + "labelled with the instance get in. Acts only on the target paths the kubelet uses, "
          + "<kubelet root>/pods/<pod uid>/volumes/kubernetes.io~csi/<volume name>/mount, reached through no "
          + "symbolic link: a publish elsewhere is refused (INVALID_ARGUMENT), an unpublish of a target it did not "
          + "publish succeeds and touches nothing. Needs CAP_SYS_ADMIN (mount) and the kubelet's pods directory "
          + "mounted with Bidirectional propagation."
    },
    footer = {
      "",
      "Example (as the DaemonSet runs it):",
      "  NODE_NAME=$(hostname) sharedipc-agent csi \\",
      "    --endpoint unix:///var/lib/kubelet/plugins/shm.sharedipc.dev/csi.sock \\",
      "    --state-dir /var/lib/kubelet/plugins/shm.sharedipc.dev/state \\",
      "    --kubelet-root /var/lib/kubelet"
    })
final class CsiCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(CsiCommand.class);

  @Option(
      names = "--endpoint",
      paramLabel = "unix:///PATH",
      required = true,
      description = "The UNIX socket to serve CSI on, as node-driver-registrar's --csi-address.")
  String endpoint;

  @Option(
      names = "--node-id",
      paramLabel = "NAME",
      required = true,
      defaultValue = "${env:NODE_NAME}",
      description =
          "This node's name (default: $NODE_NAME), returned by NodeGetInfo and checked against each publishing pod's node.")
  String nodeId;

  @Option(
      names = "--state-dir",
      paramLabel = "DIR",
      required = true,
      description =
          "Where instance tmpfs mounts and state.json live; must be on a mount propagated to the host (Bidirectional).")
  Path stateDir;

  @Option(
      names = "--kubelet-root",
      paramLabel = "DIR",
      defaultValue = "/var/lib/kubelet",
      description =
          "The kubelet's root directory (its --root-dir; default: ${DEFAULT-VALUE}, k3s and others differ): "
              + "only targets under its pods directory are published and unpublished.")
  Path kubeletRoot;

  @Option(
      names = "--kubeconfig",
      paramLabel = "FILE",
      description =
          "Kubeconfig for the membership check (default: in-cluster service account when running in a pod; "
              + "without either, every pod is let in: for tests only).")
  Path kubeconfig;

  @Override
  public Integer call() throws Exception {
    if (CsiCommand.class.getClassLoader().getResource("io/grpc/Server.class") == null) {
      log.error(
          "action=exit reason=\"the CSI driver's libraries (gRPC, Netty, the fabric8 client) are in sharedipc-agent-csi.jar, "
              + "which is not on the class path: run it as agent/bin/sharedipc-agent csi (the image's entrypoint), or "
              + "java -cp sharedipc-agent.jar:sharedipc-agent-csi.jar dev.sharedipc.agent.cli.Main csi\"");
      return 2;
    }
    return CsiDriver.run(endpoint, nodeId, stateDir, kubeletRoot, kubeconfig, Main.version());
  }
}
