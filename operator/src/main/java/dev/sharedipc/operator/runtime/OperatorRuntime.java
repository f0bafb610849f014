package dev.sharedipc.operator.runtime;

import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.operator.policy.PolicyEvaluator;
import dev.sharedipc.operator.reconcile.EventRecorder;
import dev.sharedipc.operator.reconcile.PodSync;
import dev.sharedipc.operator.reconcile.SharedIpcGroupReconciler;
import dev.sharedipc.operator.render.GroupRenderer;
import dev.sharedipc.operator.status.StatusAggregator;
import dev.sharedipc.operator.usage.NodeUsage;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.RuntimeInfo;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator process: one JOSDK {@link Operator} with the group reconciler, leader election,
 * Prometheus metrics, and the health endpoints. Used by {@code Main run} and by the tests.
 */
public final class OperatorRuntime implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(OperatorRuntime.class);
  public static final String LEASE_NAME = "sharedipc-operator";
  private static final Path SERVICE_ACCOUNT_NAMESPACE = Path.of("/var/run/secrets/kubernetes.io/serviceaccount/namespace");

  private final Operator operator;
  private final HttpEndpoints http;

  private OperatorRuntime(Operator operator, HttpEndpoints http) {
    this.operator = operator;
    this.http = http;
  }

  public static OperatorRuntime start(OperatorSettings settings, KubernetesClient client) throws IOException {
    PrometheusRegistry registry = new PrometheusRegistry();
    ReconcileMetrics metrics = new ReconcileMetrics(registry);
    Operator operator = new Operator(o -> {
      o.withKubernetesClient(client);
      o.withMetrics(metrics);
      o.withConcurrentReconciliationThreads(settings.concurrentReconciles);
      o.withCloseClientOnStop(false);
      if (settings.leaderElection) {
        o.withLeaderElectionConfiguration(new LeaderElectionConfiguration(LEASE_NAME, leaseNamespace(settings)));
      }
    });
    EventRecorder events = new EventRecorder(client);
    SharedIpcGroupReconciler reconciler = new SharedIpcGroupReconciler(
        new GroupRenderer(), new PodSync(client, events), new StatusAggregator(), new PolicyEvaluator(), new NodeUsage(),
        events, Clock.systemUTC());
    Set<String> namespaces = new HashSet<>(settings.namespaces);
    namespaces.removeIf(String::isBlank);
    operator.register(reconciler, o -> {
      if (namespaces.isEmpty()) {
        o.watchingAllNamespaces();
      } else {
        o.settingNamespaces(namespaces);
      }
    });
    RuntimeInfo info = operator.getRuntimeInfo();
    HttpEndpoints http = new HttpEndpoints(
        new InetSocketAddress(settings.httpAddress, settings.httpPort),
        registry,
        () -> info.allEventSourcesAreHealthy()
            ? new HttpEndpoints.Health(true, "informers healthy")
            : new HttpEndpoints.Health(false, "unhealthy event sources: " + info.unhealthyEventSources().keySet()),
        () -> info.isStarted()
            ? new HttpEndpoints.Health(true, "controllers started")
            : new HttpEndpoints.Health(false, "controllers not started (waiting for the leader lease or informer sync)"));
    LOG.info("starting: namespaces={} leaderElection={} http={}:{} controllers={}",
        namespaces.isEmpty() ? "all" : namespaces, settings.leaderElection, settings.httpAddress, http.port(),
        SharedIpcGroup.class.getSimpleName());
    metrics.exposeStarted(info::isStarted);
    operator.start();
    return new OperatorRuntime(operator, http);
  }

  private static String leaseNamespace(OperatorSettings settings) {
    if (settings.leaderElectionNamespace != null && !settings.leaderElectionNamespace.isBlank()) {
      return settings.leaderElectionNamespace;
    }
    try {
      if (Files.isReadable(SERVICE_ACCOUNT_NAMESPACE)) {
        return Files.readString(SERVICE_ACCOUNT_NAMESPACE).trim();
      }
    } catch (IOException e) {
      LOG.warn("cannot read {}: {}; using namespace default for the lease", SERVICE_ACCOUNT_NAMESPACE, e.getMessage());
    }
    return "default";
  }

  public int httpPort() {
    return http.port();
  }

  public boolean isStarted() {
    return operator.getRuntimeInfo().isStarted();
  }

  @Override
  public void close() {
    LOG.info("stopping");
    operator.stop();
    http.close();
  }
}
