package dev.sharedipc.operator.runtime;

import dev.sharedipc.api.v1alpha1.Placement;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.operator.informers.TrimmedStore;
import dev.sharedipc.operator.placement.InstancePlacer;
import dev.sharedipc.operator.policy.PolicyEvaluator;
import dev.sharedipc.operator.policy.SharedIpcPolicyReconciler;
import dev.sharedipc.operator.reconcile.EventRecorder;
import dev.sharedipc.operator.reconcile.GroupReconciles;
import dev.sharedipc.operator.reconcile.PodSync;
import dev.sharedipc.operator.reconcile.SharedIpcGroupReconciler;
import dev.sharedipc.operator.render.GroupRenderer;
import dev.sharedipc.operator.samenode.AvoidList;
import dev.sharedipc.operator.samenode.SameNodePlanner;
import dev.sharedipc.operator.samenode.SameNodeSync;
import dev.sharedipc.operator.status.StatusAggregator;
import dev.sharedipc.operator.sync.OwnedPods;
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
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator process: one JOSDK {@link Operator} with the group reconciler, leader election,
 * Prometheus metrics, and the health endpoints. Used by {@code Main run} and by the tests.
 *
 * <p>As controller-runtime does it: every replica is ready once its informers have synced, the
 * standby included (so a Deployment of two replicas becomes Available); only the lease holder
 * reconciles, which the metric {@code sharedipc_operator_controllers_started} and a log line tell.
 * {@link #close()} stops the controllers, then hands the lease back, so a standby takes over within
 * seconds instead of waiting for the lease to expire.
 */
public final class OperatorRuntime implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(OperatorRuntime.class);
  public static final String LEASE_NAME = "sharedipc-operator";
  private static final Path SERVICE_ACCOUNT_NAMESPACE =
      Path.of("/var/run/secrets/kubernetes.io/serviceaccount/namespace");
  // JOSDK's defaults (controller-runtime's too): a standby takes over an abandoned lease after
  // 15 s; a released one at its next try, within 2-4.4 s.
  private static final Duration LEASE_DURATION =
      LeaderElectionConfiguration.LEASE_DURATION_DEFAULT_VALUE;
  private static final Duration RENEW_DEADLINE =
      LeaderElectionConfiguration.RENEW_DEADLINE_DEFAULT_VALUE;
  private static final Duration RETRY_PERIOD =
      LeaderElectionConfiguration.RETRY_PERIOD_DEFAULT_VALUE;
  private static final Duration RECONCILE_DRAIN = Duration.ofSeconds(5);

  private final Operator operator;
  private final HttpEndpoints http;
  private final AtomicBoolean leading;
  private final RuntimeInfo info;
  private final AtomicBoolean stopping;
  private final LeaseRelease lease;
  private final CsiDriverPresence csiDriver;
  private final EventRecorder events;

  private OperatorRuntime(
      Operator operator,
      HttpEndpoints http,
      AtomicBoolean leading,
      AtomicBoolean stopping,
      LeaseRelease lease,
      CsiDriverPresence csiDriver,
      EventRecorder events) {
    this.csiDriver = csiDriver;
    this.events = events;
    this.operator = operator;
    this.http = http;
    this.leading = leading;
    this.info = operator.getRuntimeInfo();
    this.stopping = stopping;
    this.lease = lease;
  }

  public static OperatorRuntime start(OperatorSettings settings, KubernetesClient client)
      throws IOException {
    return start(settings, client, GroupReconciles.NONE);
  }

  /**
   * The operator, with one more listener of what group reconciles read (besides the metrics): a
   * test counts one group's reconciles with it.
   */
  public static OperatorRuntime start(
      OperatorSettings settings, KubernetesClient client, GroupReconciles listener)
      throws IOException {
    PrometheusRegistry registry = new PrometheusRegistry();
    ReconcileMetrics metrics = new ReconcileMetrics(registry);
    // JOSDK's "started" is true for a standby too; with leader election only the lease holder
    // reconciles.
    AtomicBoolean leading = new AtomicBoolean(!settings.leaderElection);
    AtomicBoolean stopping = new AtomicBoolean();
    String identity = leaseIdentity();
    String leaseNamespace = leaseNamespace(settings);
    LeaderCallbacks callbacks =
        new LeaderCallbacks(
            () -> {
              LOG.info(
                  "leader election: this replica leads (identity={}); controllers start", identity);
              leading.set(true);
            },
            () -> {
              leading.set(false);
              if (stopping.get()) {
                LOG.info(
                    "leader election: controllers stopped; handing the lease back (identity={})",
                    identity);
              } else {
                lostLease(settings, identity);
              }
            },
            leader -> LOG.info("leader election: leader is {}", leader));
    Operator operator =
        new Operator(
            o -> {
              o.withKubernetesClient(client);
              o.withMetrics(metrics);
              o.withConcurrentReconciliationThreads(settings.concurrentReconciles);
              o.withCloseClientOnStop(false);
              // On stop, let running reconciliations finish (they take milliseconds) rather than
              // interrupt
              // them half-way, which also files a spurious ReconcileFailed Event at every rollout.
              o.withReconciliationTerminationTimeout(RECONCILE_DRAIN);
              if (settings.leaderElection) {
                // exitOnStopLeading=false: JOSDK would call System.exit when the lease goes, which
                // is also
                // when close() stops the elector, inside the JVM's shutdown hook: the process then
                // waits
                // forever. lostLease() exits instead, and only when the lease is lost while
                // running.
                o.withLeaderElectionConfiguration(
                    new LeaderElectionConfiguration(
                        LEASE_NAME,
                        leaseNamespace,
                        LEASE_DURATION,
                        RENEW_DEADLINE,
                        RETRY_PERIOD,
                        identity,
                        callbacks,
                        false));
              }
            });
    EventRecorder events = new EventRecorder(client);
    CsiDriverPresence csiDriver = new CsiDriverPresence(client);
    GroupRenderer renderer = new GroupRenderer(settings.nodeSharedRoot, csiDriver);
    OwnedPods ownedPods = new OwnedPods(client);
    SharedIpcGroupReconciler reconciler =
        new SharedIpcGroupReconciler(
            renderer,
            Map.of(
                Placement.SamePod, new PodSync(ownedPods, events),
                Placement.SameNode,
                    new SameNodeSync(
                        new SameNodePlanner(
                            renderer, new InstancePlacer(), new AvoidList(AvoidList.DEFAULT_TTL)),
                        renderer,
                        ownedPods,
                        events,
                        Clock.systemUTC())),
            new StatusAggregator(),
            new PolicyEvaluator(),
            new NodeUsage(),
            events,
            Clock.systemUTC(),
            csiDriver::onChange,
            new GroupReconciles() {
              @Override
              public void reportUpdate(int groupsWoken) {
                metrics.reportUpdate(groupsWoken);
                listener.reportUpdate(groupsWoken);
              }

              @Override
              public void reconciled(
                  io.javaoperatorsdk.operator.processing.event.ResourceID group, int reportsRead) {
                metrics.reconciled(group, reportsRead);
                listener.reconciled(group, reportsRead);
              }

              @Override
              public void statusWrite(boolean written) {
                metrics.statusWrite(written);
                listener.statusWrite(written);
              }
            });
    Set<String> namespaces = new HashSet<>(settings.namespaces);
    namespaces.removeIf(String::isBlank);
    operator.register(
        reconciler,
        o -> {
          if (namespaces.isEmpty()) {
            o.watchingAllNamespaces();
            // One informer for all namespaces: its cache may keep trimmed groups (see
            // TrimmedStore).
            o.withItemStore(TrimmedStore.withoutManagedFields());
          } else {
            o.settingNamespaces(namespaces);
          }
        });
    operator.register(
        new SharedIpcPolicyReconciler(new PolicyEvaluator(), events, Clock.systemUTC()));
    RuntimeInfo info = operator.getRuntimeInfo();
    HttpEndpoints http =
        new HttpEndpoints(
            new InetSocketAddress(settings.httpAddress, settings.httpPort),
            registry,
            () ->
                info.allEventSourcesAreHealthy()
                    ? new HttpEndpoints.Health(true, "informers healthy")
                    : new HttpEndpoints.Health(
                        false, "unhealthy event sources: " + info.unhealthyEventSources().keySet()),
            () -> readiness(info, leading));
    LOG.info(
        "starting: namespaces={} leaderElection={} identity={} lease={}/{} http={}:{} controllers={}",
        namespaces.isEmpty() ? "all" : namespaces,
        settings.leaderElection,
        identity,
        leaseNamespace,
        LEASE_NAME,
        settings.httpAddress,
        http.port(),
        SharedIpcGroup.class.getSimpleName());
    metrics.exposeStarted(() -> leading.get() && info.isStarted());
    operator.start();
    LeaseRelease lease =
        settings.leaderElection ? new LeaseRelease(client, leaseNamespace, identity) : null;
    return new OperatorRuntime(operator, http, leading, stopping, lease, csiDriver, events);
  }

  /**
   * Ready means able to serve, as in controller-runtime: started with its informers synced and
   * healthy, whether this replica leads or stands by (its caches are warm for a takeover).
   */
  private static HttpEndpoints.Health readiness(RuntimeInfo info, AtomicBoolean leading) {
    if (!info.isStarted()) {
      return new HttpEndpoints.Health(false, "starting (informers syncing)");
    }
    if (!info.allEventSourcesAreHealthy()) {
      return new HttpEndpoints.Health(
          false, "unhealthy event sources: " + info.unhealthyEventSources().keySet());
    }
    return new HttpEndpoints.Health(
        true,
        leading.get()
            ? "informers synced; this replica leads"
            : "informers synced; standing by (another replica holds the lease)");
  }

  /**
   * The lease was lost while running (not renewed in time, or taken): exit, so that this replica
   * never reconciles next to the new leader; Kubernetes restarts it as a standby. The exit runs on
   * its own thread because this callback runs inside the leader elector, which close() (run by the
   * shutdown hook that System.exit starts) stops.
   */
  private static void lostLease(OperatorSettings settings, String identity) {
    if (!settings.exitOnLostLease) {
      LOG.warn(
          "leader election: lease lost (identity={}); not exiting (exitOnLostLease=false, for tests)",
          identity);
      return;
    }
    LOG.error(
        "leader election: lease lost (identity={}); exiting so that only the new leader reconciles",
        identity);
    Thread exit = new Thread(() -> System.exit(1), "lease-lost-exit");
    exit.start();
  }

  /**
   * A unique holder identity per process, as controller-runtime makes it: the pod name (HOSTNAME)
   * and a random suffix, so two processes on one host (or a restarted container) never share it.
   */
  private static String leaseIdentity() {
    String host = System.getenv("HOSTNAME");
    return (host == null || host.isBlank() ? "sharedipc-operator" : host) + "_" + UUID.randomUUID();
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
      LOG.warn(
          "cannot read {}: {}; using namespace default for the lease",
          SERVICE_ACCOUNT_NAMESPACE,
          e.getMessage());
    }
    return "default";
  }

  public int httpPort() {
    return http.port();
  }

  /**
   * True while this process reconciles: started, and holding the lease when leader election is on.
   */
  public boolean isStarted() {
    return leading.get() && info.isStarted();
  }

  /**
   * True when {@code /readyz} answers 200: started and informers healthy, leading or standing by.
   */
  public boolean isReady() {
    return readiness(info, leading).ok();
  }

  /**
   * Stops the controllers, then releases the lease if this replica holds it: in that order, so that
   * the next leader never reconciles next to this one. Never exits the JVM, so the shutdown hook
   * may call it.
   */
  @Override
  public void close() {
    LOG.info("stopping");
    stopping.set(true);
    operator.stop();
    events.close();
    if (lease != null) {
      lease.release();
    }
    http.close();
    csiDriver.close();
  }
}
