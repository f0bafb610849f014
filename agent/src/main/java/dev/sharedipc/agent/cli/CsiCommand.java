package dev.sharedipc.agent.cli;

import dev.sharedipc.agent.csi.CsiServer;
import dev.sharedipc.agent.csi.CsiServices;
import dev.sharedipc.agent.csi.InstanceVolumes;
import dev.sharedipc.agent.csi.LinuxMounter;
import dev.sharedipc.agent.csi.Membership;
import dev.sharedipc.agent.csi.PodMembership;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Files;
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
          + "--state-dir (mode 2770, group the pod's fsGroup), each member's volume is a bind mount of it, the last "
          + "unpublish unmounts it. With an API server (--kubeconfig, or in-cluster) only pods controlled by the group and "
          + "labelled with the instance get in. Needs CAP_SYS_ADMIN (mount) and the kubelet's pods directory mounted "
          + "with Bidirectional propagation."
    },
    footer = {
      "",
      "Example (as the DaemonSet runs it):",
      "  NODE_NAME=$(hostname) sharedipc-agent csi \\",
      "    --endpoint unix:///var/lib/kubelet/plugins/shm.sharedipc.dev/csi.sock \\",
      "    --state-dir /var/lib/kubelet/plugins/shm.sharedipc.dev/state"
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
      names = "--kubeconfig",
      paramLabel = "FILE",
      description =
          "Kubeconfig for the membership check (default: in-cluster service account when running in a pod; "
              + "without either, every pod is let in: for tests only).")
  Path kubeconfig;

  @Override
  public Integer call() throws Exception {
    KubernetesClient client = null;
    Membership membership = Membership.ANYONE;
    if (kubeconfig != null || System.getenv("KUBERNETES_SERVICE_HOST") != null) {
      Config config =
          kubeconfig == null
              ? Config.autoConfigure(null)
              : Config.fromKubeconfig(Files.readString(kubeconfig));
      client = new KubernetesClientBuilder().withConfig(config).build();
      membership = new PodMembership(client, nodeId);
    } else {
      log.warn(
          "action=start membership=none reason=\"no --kubeconfig and not in a pod: every pod that names an instance gets it\"");
    }
    Path state = stateDir.toAbsolutePath().normalize();
    InstanceVolumes volumes = new InstanceVolumes(state, new LinuxMounter(), membership);
    volumes.recover();
    Path socket = CsiServer.socketPath(endpoint);
    try (CsiServer server =
        CsiServer.start(socket, new CsiServices(volumes, nodeId, Main.version()).all())) {
      log.info(
          "serving driver={} endpoint={} node={} stateDir={} membership={}",
          CsiServices.DRIVER_NAME,
          socket,
          nodeId,
          state,
          client != null ? "api-server" : "none");
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    try {
                      server.close();
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  },
                  "csi-shutdown"));
      server.awaitTermination();
    } finally {
      if (client != null) {
        client.close();
      }
    }
    return 0;
  }
}
