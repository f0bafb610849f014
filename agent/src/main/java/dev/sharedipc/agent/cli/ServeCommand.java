package dev.sharedipc.agent.cli;

import dev.sharedipc.agent.attribution.NodePods;
import dev.sharedipc.agent.attribution.PodDirectory;
import dev.sharedipc.agent.kernel.LinuxKernel;
import dev.sharedipc.agent.kube.KubeApi;
import dev.sharedipc.agent.prepare.SharedDirPreparer;
import dev.sharedipc.agent.reap.Reaper;
import dev.sharedipc.agent.report.ClusterView;
import dev.sharedipc.agent.report.Daemon;
import dev.sharedipc.agent.report.HttpEndpoint;
import dev.sharedipc.agent.report.Metrics;
import dev.sharedipc.agent.report.NodeReporter;
import dev.sharedipc.agent.report.NodeStatusBuilder;
import dev.sharedipc.agent.report.SegmentsAccess;
import dev.sharedipc.agent.verdict.Policy;
import dev.sharedipc.agent.verdict.PolicyResolver;
import dev.sharedipc.api.Durations;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code serve}: the node daemon. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
      "The node daemon: every --interval, scan, judge, reap by each group's orphan policy (Report unless the "
          + "operator publishes Delete in the pod's SharedIpcGroup status.effectiveOrphanPolicy), remove SameNode shared directories whose instance has had no pod on this node for "
          + "longer than the group's grace period and that no process uses, write this node's SharedIpcNode status, and record an "
          + "Event per removal. "
          + "Serves /metrics, /healthz, /readyz and /segments; /segments only to a bearer token the API server "
          + "authorizes for get sharedipcnodes/segments (the ClusterRole sharedipc-segments-reader), from any address, "
          + "loopback included: a proxy or port forwarder in the pod makes every caller loopback (docs/security.md). "
          + "When the API server is away it keeps scanning and reaping by "
          + "the last known policies (at start: none, so nothing is removed), retries forever, and reports again when the "
          + "server is back; writes never hold up a pass for more than 5s (half the interval when shorter)."
    },
    footer = {
      "",
      "Example (as the DaemonSet runs it):",
      "  NODE_NAME=$(hostname) sharedipc-agent serve --listen :9464"
    })
final class ServeCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(ServeCommand.class);

  @Mixin NodeOptions node;

  @Option(
      names = "--node-name",
      paramLabel = "NAME",
      defaultValue = "${env:NODE_NAME}",
      description =
          "This node's name (default: $NODE_NAME): the SharedIpcNode to write and the pods to watch.")
  String nodeName;

  @Option(
      names = "--interval",
      paramLabel = "DURATION",
      defaultValue = "30s",
      description = "Time between passes (default: ${DEFAULT-VALUE}).")
  String interval;

  @Option(
      names = "--listen",
      paramLabel = "[HOST]:PORT",
      defaultValue = ":9464",
      description = "HTTP address (default: ${DEFAULT-VALUE}).")
  String listen;

  @Option(names = "--dry-run", description = "Decide, report and log, but remove nothing.")
  boolean dryRun;

  @Option(
      names = "--kubeconfig",
      paramLabel = "FILE",
      description =
          "Kubeconfig to use (default: in-cluster service account, then $KUBECONFIG, then ~/.kube/config).")
  Path kubeconfig;

  @Option(
      names = "--offline",
      description = "Do not talk to an API server: every segment is judged under policy Report.")
  boolean offline;

  /** The longest a pass waits for its report to be written; shorter with short intervals. */
  private static final Duration WRITE_WAIT = Duration.ofSeconds(5);

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  @Override
  public Integer call() throws Exception {
    if (!offline && (nodeName == null || nodeName.isBlank())) {
      throw new picocli.CommandLine.ParameterException(
          new picocli.CommandLine(this),
          "serve needs the node name: pass --node-name or set NODE_NAME (the DaemonSet sets it from spec.nodeName), or use --offline");
    }
    LinuxKernel kernel = new LinuxKernel();
    Metrics metrics = new Metrics();
    Duration every = Durations.parse(interval);
    KubeApi client = null;
    ClusterView cluster = null;
    NodeReporter reporter = null;
    if (!offline) {
      // 10 s connect and request timeouts; the informers retry forever (ClusterView) and the writes
      // run off the scan thread (NodeReporter)
      client = KubeApi.connect(kubeconfig);
      cluster = new ClusterView(client, nodeName);
      reporter = new NodeReporter(client, nodeName, dryRun, min(WRITE_WAIT, every.dividedBy(2)));
      metrics.informersSynced(cluster::synced);
      // SameNode shared directories are made as soon as a member is bound here, before the kubelet
      // mounts them.
      cluster.onPod(new SharedDirPreparer(node.sharedRoot)::prepare);
      cluster.start();
    }
    PodDirectory pods = cluster == null ? PodDirectory.OFFLINE : cluster;
    PolicyResolver policies = cluster == null ? PolicyResolver.fixed(Policy.UNKNOWN) : cluster;
    var survey = node.survey(kernel, pods, node.openLedger(), policies);
    var reaper = new Reaper(kernel, LinuxKernel.PROC, dryRun, d -> {});
    var sharedDirs = node.sharedDirReaper(cluster == null ? NodePods.OFFLINE : cluster, dryRun);
    Daemon daemon =
        new Daemon(
                survey,
                reaper,
                sharedDirs,
                metrics,
                new NodeStatusBuilder(Main.version()),
                reporter,
                every)
            .posixObjects(node.posixObjectReaper(dryRun));
    ClusterView view = cluster;
    Supplier<Optional<String>> unhealthy =
        () -> daemon.unhealthy().or(() -> view == null ? Optional.empty() : view.unhealthy());
    Supplier<Optional<String>> notReady = () -> view == null ? Optional.empty() : view.notReady();
    String host = listen.contains(":") ? listen.substring(0, listen.lastIndexOf(':')) : "";
    int port = Integer.parseInt(listen.substring(listen.lastIndexOf(':') + 1));
    InetSocketAddress address =
        host.isEmpty() ? new InetSocketAddress(port) : new InetSocketAddress(host, port);
    try (HttpEndpoint http =
        new HttpEndpoint(
            address,
            metrics,
            unhealthy,
            notReady,
            () -> {
              var last = daemon.last();
              return last == null ? "{}\n" : Render.scanJson(last);
            },
            new SegmentsAccess(client, nodeName))) {
      log.info(
          "serving node={} listen={} interval={} dryRun={} apiServer={}",
          nodeName,
          http.port(),
          interval,
          dryRun,
          !offline);
      daemon.run();
    } finally {
      if (reporter != null) {
        reporter.close();
      }
      if (cluster != null) {
        cluster.close();
      }
    }
    return 0;
  }
}
