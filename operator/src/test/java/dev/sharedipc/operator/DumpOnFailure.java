package dev.sharedipc.operator;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.Comparator;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/** When a test fails, prints its namespace's Events and groups, so the failure explains itself. */
public final class DumpOnFailure implements TestWatcher {
  private final Supplier<KubernetesClient> client;
  private final Supplier<String> namespace;

  public DumpOnFailure(Supplier<KubernetesClient> client, Supplier<String> namespace) {
    this.client = client;
    this.namespace = namespace;
  }

  @Override
  public void testFailed(ExtensionContext context, Throwable cause) {
    String ns = namespace.get();
    if (ns == null) {
      return;
    }
    StringBuilder out =
        new StringBuilder(
            "\n==== "
                + context.getDisplayName()
                + " failed; Events in namespace "
                + ns
                + " ====\n");
    try {
      client.get().v1().events().inNamespace(ns).list().getItems().stream()
          .sorted(Comparator.comparing(e -> String.valueOf(e.getLastTimestamp())))
          .forEach(
              (Event e) ->
                  out.append(
                      String.format(
                          "%s %-7s %-28s %s/%s: %s%n",
                          e.getLastTimestamp(),
                          e.getType(),
                          e.getReason(),
                          e.getInvolvedObject().getKind(),
                          e.getInvolvedObject().getName(),
                          e.getMessage())));
      out.append("==== SharedIpcGroups ====\n");
      client
          .get()
          .genericKubernetesResources("sharedipc.dev/v1alpha1", "SharedIpcGroup")
          .inNamespace(ns)
          .list()
          .getItems()
          .forEach(g -> out.append(Serialization.asYaml(g)));
      out.append("==== Pods ====\n");
      client
          .get()
          .pods()
          .inNamespace(ns)
          .list()
          .getItems()
          .forEach(
              p ->
                  out.append(
                      String.format(
                          "%s node=%s phase=%s%n",
                          p.getMetadata().getName(),
                          p.getSpec().getNodeName(),
                          p.getStatus() == null ? null : p.getStatus().getPhase())));
    } catch (RuntimeException e) {
      out.append("(could not read the namespace: ").append(e.getMessage()).append(")\n");
    }
    System.err.println(out);
  }
}
