package dev.sharedipc.operator;

import dev.sharedipc.api.testing.RealApiServer;
import dev.sharedipc.operator.runtime.OperatorRuntime;
import dev.sharedipc.operator.runtime.OperatorSettings;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.UncheckedIOException;

/** The real operator runtime, in this JVM, against the shared real API server; one per test JVM. */
public final class RunningOperator {
  private static OperatorRuntime runtime;
  private static KubernetesClient client;
  private static final ReconcileLog RECONCILES = new ReconcileLog();

  private RunningOperator() {}

  /** The operator of this JVM, started on first use, or again after {@link #stop()}. */
  public static synchronized OperatorRuntime shared() {
    if (client == null) {
      client = RealApiServer.shared().newClient();
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    stop();
                    client.close();
                  },
                  "operator-stop"));
    }
    if (runtime == null) {
      runtime = start();
    }
    return runtime;
  }

  /** Every group reconcile of the operators this JVM started, with the reports each read. */
  public static ReconcileLog reconciles() {
    return RECONCILES;
  }

  /**
   * Stops the operator, as a crash or a rollout of its Deployment would: what it knew in memory is
   * lost; {@link #shared()} starts a new one that knows only what the cluster holds.
   */
  public static synchronized void stop() {
    if (runtime != null) {
      runtime.close();
      runtime = null;
    }
  }

  private static OperatorRuntime start() {
    OperatorSettings settings = new OperatorSettings();
    settings.leaderElection = false;
    settings.httpAddress = "127.0.0.1";
    settings.httpPort = 0;
    try {
      return OperatorRuntime.start(settings, client, RECONCILES);
    } catch (IOException e) {
      throw new UncheckedIOException("operator did not start", e);
    }
  }
}
