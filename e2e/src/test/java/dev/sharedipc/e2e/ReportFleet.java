package dev.sharedipc.e2e;

import dev.sharedipc.api.Labels;
import dev.sharedipc.api.v1alpha1.SharedIpcNode;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The node agents of a fleet, simulated for the scale benchmark: one SharedIpcNode report per node,
 * listing one IPC namespace entry per pod bound to it (group, instance, pod UID, segments, bytes),
 * written as the agent's NodeReporter writes it (one JSON patch that replaces the status
 * subresource, no read before) at the agent's cadence. Each scan, {@code changeFraction} of the
 * nodes see their usage change. {@code every-scan} writes every scan all the same (today's agent,
 * 30 s); {@code on-change} writes when the usage changed, plus a heartbeat when the last write is
 * older than the heartbeat interval (5 min). Scans are spread evenly over the interval, and first
 * heartbeats over the heartbeat interval, as agents started at different times would.
 *
 * <p>Each node's counts carry over from {@link #createReports()} into every run and from one mode
 * to the next: a node that did not change writes what it wrote last, so the groups' status writes
 * measured in a mode are those its changes cause (a fleet that restarted from other counts would
 * change every group on its first scan of each mode).
 */
final class ReportFleet {
  enum Mode {
    EVERY_SCAN("every-scan"),
    ON_CHANGE("on-change");

    final String flag;

    Mode(String flag) {
      this.flag = flag;
    }

    static Mode of(String flag) {
      for (Mode m : values()) {
        if (m.flag.equals(flag)) {
          return m;
        }
      }
      throw new IllegalArgumentException(
          "unknown report mode '" + flag + "': every-scan or on-change");
    }
  }

  /** Writes one node's report with the counts of this generation. */
  interface Writer {
    void write(String node, List<Pod> pods, int generation);
  }

  private final KubernetesClient client;
  private final Writer writer;
  private final Map<String, List<Pod>> podsByNode;
  // the generation of the counts each node wrote last: a scan that changes nothing writes it again
  private final Map<String, Integer> generations = new ConcurrentHashMap<>();
  private final Duration scan;
  private final Duration heartbeat;
  private final double changeFraction;
  private final AtomicLong writes = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();

  ReportFleet(
      KubernetesClient client,
      List<String> nodes,
      List<Pod> pods,
      Duration scan,
      Duration heartbeat,
      double changeFraction) {
    this(null, client, nodes, pods, scan, heartbeat, changeFraction);
  }

  /** A fleet whose writes go to {@code writer} (a test's), or to the API server when null. */
  ReportFleet(
      Writer writer,
      KubernetesClient client,
      List<String> nodes,
      List<Pod> pods,
      Duration scan,
      Duration heartbeat,
      double changeFraction) {
    this.client = client;
    this.writer = writer != null ? writer : this::write;
    this.scan = scan;
    this.heartbeat = heartbeat;
    this.changeFraction = changeFraction;
    podsByNode = new HashMap<>();
    nodes.forEach(n -> podsByNode.put(n, new ArrayList<>()));
    pods.stream()
        .filter(
            p ->
                p.getSpec().getNodeName() != null
                    && podsByNode.containsKey(p.getSpec().getNodeName()))
        .forEach(p -> podsByNode.get(p.getSpec().getNodeName()).add(p));
  }

  /**
   * Creates each node's report object, as the agent does once at start (not part of a measured
   * window).
   */
  void createReports() {
    for (Map.Entry<String, List<Pod>> node : podsByNode.entrySet()) {
      if (client != null
          && client.resources(SharedIpcNode.class).withName(node.getKey()).get() == null) {
        SharedIpcNode report = new SharedIpcNode();
        report.getMetadata().setName(node.getKey());
        client.resource(report).create();
      }
      generations.put(node.getKey(), 0);
      writer.write(node.getKey(), node.getValue(), 0);
    }
  }

  /** Runs the fleet in this mode for this long; returns the report writes made. */
  long run(Mode mode, Duration length) throws InterruptedException {
    long before = writes.get();
    ScheduledExecutorService agents = Executors.newScheduledThreadPool(4);
    Random random = new Random(42);
    List<String> nodes = new ArrayList<>(podsByNode.keySet());
    long scanMillis = scan.toMillis();
    for (int i = 0; i < nodes.size(); i++) {
      String node = nodes.get(i);
      List<Pod> pods = podsByNode.get(node);
      long[] lastWrite = {
        System.currentTimeMillis() - (long) (random.nextDouble() * heartbeat.toMillis())
      };
      Random own = new Random(i);
      agents.scheduleAtFixedRate(
          () -> {
            boolean changed = own.nextDouble() < changeFraction;
            boolean heartbeatDue =
                System.currentTimeMillis() - lastWrite[0] >= heartbeat.toMillis();
            if (mode == Mode.EVERY_SCAN || changed || heartbeatDue) {
              int generation = generations.merge(node, changed ? 1 : 0, Integer::sum);
              writer.write(node, pods, generation);
              lastWrite[0] = System.currentTimeMillis();
            }
          },
          scanMillis * i / Math.max(1, nodes.size()),
          scanMillis,
          TimeUnit.MILLISECONDS);
    }
    Thread.sleep(length.toMillis());
    agents.shutdownNow();
    agents.awaitTermination(30, TimeUnit.SECONDS);
    return writes.get() - before;
  }

  long failures() {
    return failures.get();
  }

  /**
   * One write: PATCH the report's status with this node's entries, as the agent does; generation
   * varies the counts.
   */
  private void write(String node, List<Pod> pods, int generation) {
    try {
      SharedIpcNodeStatus status = new SharedIpcNodeStatus();
      status.setAgentVersion("fleet-simulator");
      status.setLastScanTime(Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
      status.setLastScanDurationSeconds(0.05);
      List<SharedIpcNodeStatus.NamespaceReport> entries = new ArrayList<>();
      for (Pod pod : pods) {
        SharedIpcNodeStatus.NamespaceReport r = new SharedIpcNodeStatus.NamespaceReport();
        Map<String, String> labels = pod.getMetadata().getLabels();
        r.podNamespace = pod.getMetadata().getNamespace();
        r.podName = pod.getMetadata().getName();
        r.podUid = pod.getMetadata().getUid();
        r.group = labels == null ? null : labels.get(Labels.GROUP);
        r.groupUid =
            pod.getMetadata().getOwnerReferences().stream()
                .filter(o -> Boolean.TRUE.equals(o.getController()))
                .map(io.fabric8.kubernetes.api.model.OwnerReference::getUid)
                .findFirst()
                .orElse(null);
        String instance = labels == null ? null : labels.get(Labels.INSTANCE);
        r.instance = instance == null ? null : Integer.valueOf(instance);
        r.segments = 1L + generation % 3;
        r.bytes = r.segments * 64L * 1024 * 1024;
        r.rssBytes = r.bytes / 2;
        r.orphans = 0L;
        entries.add(r);
      }
      status.setIpcNamespaces(entries);
      SharedIpcNode named = new SharedIpcNode();
      named.getMetadata().setName(node);
      String patch =
          "[{\"op\":\"add\",\"path\":\"/status\",\"value\":"
              + client.getKubernetesSerialization().asJson(status)
              + "}]";
      client
          .resources(SharedIpcNode.class)
          .resource(named)
          .subresource("status")
          .patch(PatchContext.of(PatchType.JSON), patch);
      writes.incrementAndGet();
    } catch (RuntimeException e) {
      if (failures.getAndIncrement() == 0) {
        System.err.println(
            "[bench] simulated agent: report of node " + node + " not written: " + e.getMessage());
      }
    }
  }
}
