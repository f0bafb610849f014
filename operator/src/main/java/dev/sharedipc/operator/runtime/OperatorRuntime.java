package dev.sharedipc.operator.runtime;

import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.operator.placement.InstancePlacer;
import dev.sharedipc.operator.policy.PolicyEvaluator;
import dev.sharedipc.operator.policy.SharedIpcPolicyReconciler;
import dev.sharedipc.operator.reconcile.EventRecorder;
import dev.sharedipc.operator.reconcile.PodSync;
import dev.sharedipc.operator.reconcile.SharedIpcGroupReconciler;
import dev.sharedipc.operator.render.GroupRenderer;
import dev.sharedipc.operator.samenode.AvoidList;
import dev.sharedipc.operator.samenode.SameNodePlanner;
import dev.sharedipc.operator.samenode.SameNodeSync;
import dev.sharedipc.operator.sync.OwnedPods;
import dev.sharedipc.api.v1alpha1.Placement;
import dev.sharedipc.operator.status.StatusAggregator;
import dev.sharedipc.operator.usage.NodeUsage;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
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
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
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
  private final BooleanSupplier reconciling;

  private OperatorRuntime(Operator operator, HttpEndpoints http, BooleanSupplier reconciling) {
    this.operator = operator;
    this.http = http;
    this.reconciling = reconciling;
  }

  public static OperatorRuntime start(OperatorSettings settings, KubernetesClient client) throws IOException {
    PrometheusRegistry registry = new PrometheusRegistry();
    ReconcileMetrics metrics = new ReconcileMetrics(registry);
    // JOSDK's "started" is true for a follower too; with leader election only the lease holder reconciles.
    AtomicBoolean leading = new AtomicBoolean(!settings.leaderElection);
    LeaderCallbacks callbacks = new LeaderCallbacks(
        () -> {
          LOG.info("leader election: this replica leads; starting controllers");
          leading.set(true);
        },
        () -> {
          LOG.warn("leader election: lease lost; controllers stop");
          leading.set(false);
        },
        identity -> LOG.info("leader election: leader is {}", identity));
    Operator operator = new Operator(o -> {
      o.withKubernetesClient(client);
      o.withMetrics(metrics);
      o.withConcurrentReconciliationThreads(settings.concurrentReconciles);
      o.withCloseClientOnStop(false);
      if (settings.leaderElection) {
        o.withLeaderElectionConfiguration(new LeaderElectionConfiguration(LEASE_NAME, leaseNamespace(settings),
            LeaderElectionConfiguration.LEASE_DURATION_DEFAULT_VALUE, LeaderElectionConfiguration.RENEW_DEADLINE_DEFAULT_VALUE,
            LeaderElectionConfiguration.RETRY_PERIOD_DEFAULT_VALUE, null, callbacks, settings.exitOnLostLease));
      }
    });
    EventRecorder events = new EventRecorder(client);
    GroupRenderer renderer = new GroupRenderer(settings.nodeSharedRoot);
    OwnedPods ownedPods = new OwnedPods(client);
    SharedIpcGroupReconciler reconciler = new SharedIpcGroupReconciler(renderer, Map.of(
            Placement.SamePod, new PodSync(ownedPods, events),
            Placement.SameNode, new SameNodeSync(new SameNodePlanner(renderer, new InstancePlacer(), new AvoidList(AvoidList.DEFAULT_TTL)),
                renderer, ownedPods, events, Clock.systemUTC())),
        new StatusAggregator(), new PolicyEvaluator(), new NodeUsage(), events, Clock.systemUTC());
    Set<String> namespaces = new HashSet<>(settings.namespaces);
    namespaces.removeIf(String::isBlank);
    operator.register(reconciler, o -> {
      if (namespaces.isEmpty()) {
        o.watchingAllNamespaces();
      } else {
        o.settingNamespaces(namespaces);
      }
    });
    operator.register(new SharedIpcPolicyReconciler(new PolicyEvaluator(), Clock.systemUTC()));
    RuntimeInfo info = operator.getRuntimeInfo();
    BooleanSupplier reconciling = () -> leading.get() && info.isStarted();
    HttpEndpoints http = new HttpEndpoints(
        new InetSocketAddress(settings.httpAddress, settings.httpPort),
        registry,
        () -> info.allEventSourcesAreHealthy()
            ? new HttpEndpoints.Health(true, "informers healthy")
            : new HttpEndpoints.Health(false, "unhealthy event sources: " + info.unhealthyEventSources().keySet()),
        () -> reconciling.getAsBoolean()
            ? new HttpEndpoints.Health(true, "controllers started")
            : new HttpEndpoints.Health(false, leading.get() ? "controllers starting (informers syncing)"
                : "standing by: another replica holds the leader lease"));
    LOG.info("starting: namespaces={} leaderElection={} http={}:{} controllers={}",
        namespaces.isEmpty() ? "all" : namespaces, settings.leaderElection, settings.httpAddress, http.port(),
        SharedIpcGroup.class.getSimpleName());
    metrics.exposeStarted(reconciling);
    operator.start();
    return new OperatorRuntime(operator, http, reconciling);
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

  /** True while this process reconciles: started, and holding the lease when leader election is on. */
  public boolean isStarted() {
    return reconciling.getAsBoolean();
  }

  @Override
  public void close() {
    LOG.info("stopping");
    operator.stop();
    http.close();
  }
}
