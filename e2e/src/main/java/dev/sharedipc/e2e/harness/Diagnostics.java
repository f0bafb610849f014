package dev.sharedipc.e2e.harness;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Comparator;
import java.util.Map;
import java.util.Objects;

/**
 * What a failed scenario leaves for the reader: the test namespace's Events in time order, its
 * groups (status included) and pods, and the tail of the operator's log (in the real-node tier:
 * each real node described, and the logs of the operator's and the agent's pods); printed to stderr
 * and written to {@code e2e-logs/<Class>.<method>.txt}, next to the full operator and cluster logs.
 */
final class Diagnostics {
  private static final int OPERATOR_LOG_LINES = 150;

  /** A namespace of a scale run holds thousands: the dump stays readable. */
  private static final int MAX_ITEMS = 200;

  private static final int MAX_GROUPS = 10;

  private Diagnostics() {}

  static void dump(E2EEnvironment env, TestNamespace ns, String test, Throwable failure) {
    StringBuilder out = new StringBuilder();
    out.append("\n==== ").append(test).append(" failed: ").append(failure).append('\n');
    out.append("==== Events in namespace ").append(ns.name()).append(" ====\n");
    KubernetesClient client = env.admin();
    try {
      java.util.List<Event> events =
          client.v1().events().inNamespace(ns.name()).list().getItems().stream()
              .sorted(Comparator.comparing(Diagnostics::when))
              .toList();
      if (events.size() > MAX_ITEMS) {
        out.append("(the last ")
            .append(MAX_ITEMS)
            .append(" of ")
            .append(events.size())
            .append(")\n");
      }
      events
          .subList(Math.max(0, events.size() - MAX_ITEMS), events.size())
          .forEach(
              e ->
                  out.append(
                      String.format(
                          "%s %-7s %-24s %s/%s: %s (x%s, from %s)%n",
                          when(e),
                          e.getType(),
                          e.getReason(),
                          e.getInvolvedObject().getKind(),
                          e.getInvolvedObject().getName(),
                          e.getMessage(),
                          Objects.requireNonNullElse(e.getCount(), 1),
                          reporter(e))));
      out.append("==== SharedIpcGroups ====\n");
      java.util.List<GenericKubernetesResource> groups =
          client
              .genericKubernetesResources("sharedipc.dev/v1alpha1", "SharedIpcGroup")
              .inNamespace(ns.name())
              .list()
              .getItems();
      if (groups.size() > MAX_GROUPS) {
        out.append("(the first ")
            .append(MAX_GROUPS)
            .append(" of ")
            .append(groups.size())
            .append(")\n");
      }
      for (GenericKubernetesResource g : groups.subList(0, Math.min(groups.size(), MAX_GROUPS))) {
        g.getMetadata().setManagedFields(null);
        out.append(Serialization.asYaml(g));
      }
      out.append("==== Pods ====\n");
      java.util.List<Pod> pods = client.pods().inNamespace(ns.name()).list().getItems();
      if (pods.size() > MAX_ITEMS) {
        out.append("(the first ")
            .append(MAX_ITEMS)
            .append(" of ")
            .append(pods.size())
            .append(")\n");
      }
      for (Pod p : pods.subList(0, Math.min(pods.size(), MAX_ITEMS))) {
        Map<String, String> annotations = p.getMetadata().getAnnotations();
        out.append(
            String.format(
                "%s uid=%s node=%s phase=%s ready=%s deleting=%s hash=%s%n",
                p.getMetadata().getName(),
                p.getMetadata().getUid(),
                p.getSpec().getNodeName(),
                p.getStatus() == null ? null : p.getStatus().getPhase(),
                p.getStatus() == null
                    ? null
                    : p.getStatus().getConditions().stream()
                        .filter(c -> "Ready".equals(c.getType()))
                        .map(c -> c.getStatus())
                        .findFirst()
                        .orElse("-"),
                p.getMetadata().getDeletionTimestamp() != null,
                annotations == null ? null : annotations.get("sharedipc.dev/template-hash")));
      }
    } catch (RuntimeException e) {
      out.append("(could not read the namespace: ").append(e).append(")\n");
    }
    OperatorProcess operator = env.operator();
    if (operator != null) {
      out.append("==== operator: alive=")
          .append(operator.isAlive())
          .append(", last ")
          .append(OPERATOR_LOG_LINES)
          .append(" lines of ")
          .append(operator.log())
          .append(" ====\n")
          .append(operator.logTail(OPERATOR_LOG_LINES))
          .append('\n');
    }
    if (env.realNodes()) {
      // Conditions (MemoryPressure, DiskPressure), taints and allocated resources of each real
      // node: what decides whether a pod can land there.
      for (String node : env.cluster().realNodeNames()) {
        out.append("==== kubectl describe node ")
            .append(node)
            .append(" ====\n")
            .append(
                env.kubectl(
                        java.util.List.of("describe", "node", node),
                        java.time.Duration.ofSeconds(60))
                    .output())
            .append('\n');
      }
      // Restarts of the product's own containers, with how the last one ended (Error/143 is a
      // probe's kill, OOMKilled the memory limit).
      for (String namespace :
          java.util.List.of(E2EEnvironment.OPERATOR_NAMESPACE, E2EEnvironment.AGENT_NAMESPACE)) {
        out.append("==== containers in ").append(namespace).append(" ====\n");
        try {
          for (Pod p : client.pods().inNamespace(namespace).list().getItems()) {
            if (p.getStatus() == null) {
              continue;
            }
            for (var c : p.getStatus().getContainerStatuses()) {
              var last = c.getLastState() == null ? null : c.getLastState().getTerminated();
              out.append(
                  String.format(
                      "%s/%s restarts=%d ready=%s%s%n",
                      p.getMetadata().getName(),
                      c.getName(),
                      c.getRestartCount(),
                      c.getReady(),
                      last == null
                          ? ""
                          : String.format(
                              " last=%s/%d %s..%s",
                              last.getReason(),
                              last.getExitCode(),
                              last.getStartedAt(),
                              last.getFinishedAt())));
            }
          }
        } catch (RuntimeException e) {
          out.append("(could not list: ").append(e).append(")\n");
        }
      }
      for (String[] workload :
          new String[][] {
            {E2EEnvironment.OPERATOR_NAMESPACE, "sharedipc-operator"},
            {E2EEnvironment.AGENT_NAMESPACE, "sharedipc-agent"}
          }) {
        out.append("==== kubectl logs -n ")
            .append(workload[0])
            .append(" -l app.kubernetes.io/name=")
            .append(workload[1])
            .append(" (last ")
            .append(OPERATOR_LOG_LINES)
            .append(" lines of each container) ====\n")
            .append(
                env.kubectl(
                        java.util.List.of(
                            "logs",
                            "-n",
                            workload[0],
                            "-l",
                            "app.kubernetes.io/name=" + workload[1],
                            "--all-containers",
                            "--prefix",
                            "--tail=" + OPERATOR_LOG_LINES),
                        java.time.Duration.ofSeconds(60))
                    .output())
            .append('\n');
      }
    }
    out.append("==== cluster component logs: ")
        .append(env.cluster().stateDir().resolve("logs"))
        .append(" (copied to ")
        .append(env.logDir().resolve("cluster"))
        .append(" at the end of the run) ====\n");
    System.err.println(out);
    try {
      Files.createDirectories(env.logDir());
      Files.writeString(
          env.logDir().resolve(test + ".txt"), out.toString(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      System.err.println("[e2e] cannot write the diagnostics file: " + e);
    }
  }

  private static String reporter(Event e) {
    if (e.getSource() != null && e.getSource().getComponent() != null) {
      return e.getSource().getComponent();
    }
    return Objects.requireNonNullElse(e.getReportingComponent(), "?");
  }

  private static String when(Event e) {
    if (e.getEventTime() != null && e.getEventTime().getTime() != null) {
      return e.getEventTime().getTime();
    }
    if (e.getLastTimestamp() != null) {
      return e.getLastTimestamp();
    }
    return String.valueOf(e.getMetadata().getCreationTimestamp());
  }
}
