package dev.sharedipc.operator.runtime;

import dev.sharedipc.operator.reconcile.GroupReconciles;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * JOSDK's metrics hooks as Prometheus metrics: reconciliations by result, their duration, and
 * failures by exception type; and what node reports cost: report updates, the groups they woke and
 * the reports group reconciles read. Labels stay bounded (controller, result, exception class):
 * never a resource name.
 */
public class ReconcileMetrics implements Metrics, GroupReconciles {
  private final Counter reconciliations;
  private final Counter failures;
  private final Histogram duration;
  private final Counter reportUpdates;
  private final Counter groupsWoken;
  private final Counter reportsRead;
  private final Counter statusWrites;
  private final PrometheusRegistry registry;

  public ReconcileMetrics(PrometheusRegistry registry) {
    this.registry = registry;
    reconciliations =
        Counter.builder()
            .name("sharedipc_operator_reconciliations_total")
            .help("Reconciliations finished, by controller and result (success or error).")
            .labelNames("controller", "result")
            .register(registry);
    failures =
        Counter.builder()
            .name("sharedipc_operator_reconcile_errors_total")
            .help("Reconciliations that threw, by controller and exception class.")
            .labelNames("controller", "exception")
            .register(registry);
    duration =
        Histogram.builder()
            .name("sharedipc_operator_reconcile_duration_seconds")
            .help("Time spent in one reconciliation, by controller.")
            .labelNames("controller")
            .classicOnly()
            .classicUpperBounds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
            .register(registry);
    reportUpdates =
        Counter.builder()
            .name("sharedipc_operator_node_report_updates_total")
            .help(
                "SharedIpcNode events (a report written by an agent, or its removal) seen by the group controller.")
            .register(registry);
    groupsWoken =
        Counter.builder()
            .name("sharedipc_operator_groups_woken_by_reports_total")
            .help(
                "Group reconciles those SharedIpcNode events asked for (the groups each report names or named).")
            .register(registry);
    reportsRead =
        Counter.builder()
            .name("sharedipc_operator_node_reports_read_total")
            .help(
                "SharedIpcNode reports read by group reconciles (only the reports that can count for the group).")
            .register(registry);
    statusWrites =
        Counter.builder()
            .name("sharedipc_operator_group_status_writes_total")
            .help(
                "Group reconciles by whether they wrote status (written) or found it unchanged and skipped the write (skipped).")
            .labelNames("result")
            .register(registry);
  }

  @Override
  public void reportUpdate(int groups) {
    reportUpdates.inc();
    groupsWoken.inc(groups);
  }

  @Override
  public void reconciled(ResourceID group, int reports) {
    reportsRead.inc(reports);
  }

  @Override
  public void statusWrite(boolean written) {
    statusWrites.labelValues(written ? "written" : "skipped").inc();
  }

  /**
   * Exposes whether the controllers run: with leader election, whether this replica leads (the
   * leadership signal; readiness says nothing about it, as every started replica is ready).
   */
  public void exposeStarted(BooleanSupplier started) {
    GaugeWithCallback.builder()
        .name("sharedipc_operator_controllers_started")
        .help(
            "1 while this process runs its controllers (with leader election: while it holds the lease), else 0.")
        .callback(cb -> cb.call(started.getAsBoolean() ? 1 : 0))
        .register(registry);
  }

  @Override
  public <T> T timeControllerExecution(ControllerExecution<T> execution) throws Exception {
    long start = System.nanoTime();
    String controller = execution.controllerName();
    try {
      T result = execution.execute();
      reconciliations.labelValues(controller, "success").inc();
      return result;
    } catch (Exception e) {
      reconciliations.labelValues(controller, "error").inc();
      failures.labelValues(controller, e.getClass().getSimpleName()).inc();
      throw e;
    } finally {
      duration.labelValues(controller).observe((System.nanoTime() - start) / 1e9);
    }
  }

  @Override
  public void failedReconciliation(
      HasMetadata resource, Exception exception, Map<String, Object> metadata) {
    // counted in timeControllerExecution, which sees every execution
  }
}
