package dev.sharedipc.agent.csi;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CSI driver's process ({@code sharedipc-agent csi}): the membership check against the API
 * server, the instance volumes recovered from the state directory, and the gRPC server on the
 * kubelet's socket. Apart from the command's options (cli/CsiCommand) so that the agent's other
 * commands never load a class of gRPC, Netty or the fabric8 client: those are packaged in
 * sharedipc-agent-csi.jar, on the class path of {@code csi} only (agent/bin/sharedipc-agent).
 */
public final class CsiDriver {
  private static final Logger log = LoggerFactory.getLogger(CsiDriver.class);

  private CsiDriver() {}

  /** Serves CSI on {@code endpoint} until the process is stopped; the exit code. */
  public static int run(
      String endpoint,
      String nodeId,
      Path stateDir,
      Path kubeletRoot,
      Path kubeconfig,
      String version)
      throws Exception {
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
    KubeletTargets targets = new KubeletTargets(kubeletRoot);
    InstanceVolumes volumes = new InstanceVolumes(state, targets, new LinuxMounter(), membership);
    volumes.recover();
    Path socket = CsiServer.socketPath(endpoint);
    try (CsiServer server =
        CsiServer.start(socket, new CsiServices(volumes, nodeId, version).all())) {
      log.info(
          "serving driver={} endpoint={} node={} stateDir={} targetsUnder={} membership={}",
          CsiServices.DRIVER_NAME,
          socket,
          nodeId,
          state,
          targets.podsDirectory(),
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
