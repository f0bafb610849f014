package dev.sharedipc.agent.cli;

import dev.sharedipc.agent.PolicyResolver;
import dev.sharedipc.agent.attribution.NodePods;
import dev.sharedipc.agent.attribution.PodDirectory;
import dev.sharedipc.agent.kernel.LinuxKernel;
import dev.sharedipc.agent.prepare.SharedDirPreparer;
import dev.sharedipc.agent.reap.Reaper;
import dev.sharedipc.agent.report.ClusterLink;
import dev.sharedipc.agent.report.Daemon;
import dev.sharedipc.agent.report.HttpEndpoint;
import dev.sharedipc.agent.report.Metrics;
import dev.sharedipc.agent.report.NodeStatusBuilder;
import dev.sharedipc.api.Durations;
import dev.sharedipc.agent.verdict.Policy;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code serve}: the node daemon. */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = {
        "The node daemon: every --interval, scan, judge, reap by each group's orphan policy (Report unless the "
            + "pod's SharedIpcGroup says Delete), remove SameNode shared directories whose instance has had no pod on this node for "
            + "longer than the group's grace period and that no process uses, write this node's SharedIpcNode status, and record an "
            + "Event per removal. "
            + "Serves /metrics, /healthz and /segments. When the API server is away it keeps scanning and reaping by the "
            + "last known policies and reports again when the server is back."},
    footer = {"", "Example (as the DaemonSet runs it):", "  NODE_NAME=$(hostname) sharedipc-agent serve --listen :9464"})
final class ServeCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(ServeCommand.class);

  @Mixin NodeOptions node;

  @Option(names = "--node-name", paramLabel = "NAME", defaultValue = "${env:NODE_NAME}",
      description = "This node's name (default: $NODE_NAME): the SharedIpcNode to write and the pods to watch.")
  String nodeName;

  @Option(names = "--interval", paramLabel = "DURATION", defaultValue = "30s", description = "Time between passes (default: ${DEFAULT-VALUE}).")
  String interval;

  @Option(names = "--listen", paramLabel = "[HOST]:PORT", defaultValue = ":9464", description = "HTTP address (default: ${DEFAULT-VALUE}).")
  String listen;

  @Option(names = "--dry-run", description = "Decide, report and log, but remove nothing.") boolean dryRun;

  @Option(names = "--kubeconfig", paramLabel = "FILE",
      description = "Kubeconfig to use (default: in-cluster service account, then $KUBECONFIG, then ~/.kube/config).")
  Path kubeconfig;

  @Option(names = "--offline", description = "Do not talk to an API server: every segment is judged under policy Report.")
  boolean offline;

  @Override
  public Integer call() throws Exception {
    if (!offline && (nodeName == null || nodeName.isBlank())) {
      throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
          "serve needs the node name: pass --node-name or set NODE_NAME (the DaemonSet sets it from spec.nodeName), or use --offline");
    }
    LinuxKernel kernel = new LinuxKernel();
    Metrics metrics = new Metrics();
    ClusterLink cluster = null;
    if (!offline) {
      Config config = kubeconfig == null ? Config.autoConfigure(null) : Config.fromKubeconfig(Files.readString(kubeconfig));
      KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build();
      cluster = new ClusterLink(client, nodeName, dryRun);
      // SameNode shared directories are made as soon as a member is bound here, before the kubelet mounts them.
      cluster.onPod(new SharedDirPreparer(node.sharedRoot)::prepare);
    }
    PodDirectory pods = cluster == null ? PodDirectory.OFFLINE : cluster;
    PolicyResolver policies = cluster == null ? PolicyResolver.fixed(Policy.UNKNOWN) : cluster;
    var survey = node.survey(kernel, pods, node.openLedger(), policies);
    var reaper = new Reaper(kernel, LinuxKernel.PROC, dryRun, d -> {});
    var sharedDirs = node.sharedDirReaper(cluster == null ? NodePods.OFFLINE : cluster, dryRun);
    Daemon daemon = new Daemon(survey, reaper, sharedDirs, metrics, new NodeStatusBuilder(Main.version()), cluster, Durations.parse(interval));
    AtomicReference<String> host = new AtomicReference<>(listen.contains(":") ? listen.substring(0, listen.lastIndexOf(':')) : "");
    int port = Integer.parseInt(listen.substring(listen.lastIndexOf(':') + 1));
    InetSocketAddress address = host.get().isEmpty() ? new InetSocketAddress(port) : new InetSocketAddress(host.get(), port);
    try (HttpEndpoint http = new HttpEndpoint(address, metrics, daemon::healthy,
        () -> daemon.last() == null ? "{}\n" : Render.scanJson(daemon.last()))) {
      log.info("serving node={} listen={} interval={} dryRun={} apiServer={}", nodeName, http.port(), interval, dryRun, !offline);
      daemon.run();
    } finally {
      if (cluster != null) {
        cluster.close();
      }
    }
    return 0;
  }
}
