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

  private RunningOperator() {}

  public static synchronized OperatorRuntime shared() {
    if (runtime == null) {
      RealApiServer api = RealApiServer.shared();
      OperatorSettings settings = new OperatorSettings();
      settings.leaderElection = false;
      settings.httpAddress = "127.0.0.1";
      settings.httpPort = 0;
      KubernetesClient client = api.newClient();
      try {
        runtime = OperatorRuntime.start(settings, client);
      } catch (IOException e) {
        throw new UncheckedIOException("operator did not start", e);
      }
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        runtime.close();
        client.close();
      }, "operator-stop"));
    }
    return runtime;
  }
}
