package dev.sharedipc.agent.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sharedipc.agent.attribution.PodInfo;
import dev.sharedipc.agent.reap.Action;
import dev.sharedipc.agent.reap.Decision;
import dev.sharedipc.agent.reap.PosixObjectReaper;
import dev.sharedipc.agent.reap.SharedDirDecision;
import dev.sharedipc.agent.scan.SharedDirName;
import dev.sharedipc.agent.survey.PosixObjectFinding;
import dev.sharedipc.agent.survey.PosixVolumeFinding;
import dev.sharedipc.api.ReportCadence;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcNode;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeSpec;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.net.HttpURLConnection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the agent writes to the API server: its node's SharedIpcNode (the report, owned by the Node
 * so that the garbage collector removes it with the node) and an Event per removal.
 *
 * <p>Every write runs on one writer thread, never on the scan thread: a pass hands its report over
 * and waits for it at most {@code wait}, so an API server that is slow, away or silently dropping
 * packets (each request can then take the client's timeouts times its retries) never delays
 * scanning and reaping. While a write is in flight, a newer report replaces the one still waiting
 * (only the latest matters), and Events beyond {@value #MAX_QUEUED_EVENTS} waiting are dropped;
 * both are logged.
 *
 * <p>The status is replaced whole (a JSON patch {@code add /status}), so an entry the agent no
 * longer reports, such as a group that left {@code orphansRemovedByGroup}, is gone from the object
 * too (a merge patch would keep it forever).
 *
 * <p>A report is written only when it differs materially from the last one written ({@link
 * ReportChange}) or when the heartbeat is due ({@link ReportCadence#HEARTBEAT}): a quiet node makes
 * one write per heartbeat and no read at all. The reporter keeps its own copy of what it wrote; a
 * watch on its SharedIpcNode (one object, by name) tells it when someone else deleted the object or
 * changed its status, and a failed write forgets the copy: in each case the next pass writes the
 * report again.
 */
public final class NodeReporter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NodeReporter.class);
  static final int MAX_QUEUED_EVENTS = 256;

  /** Nodes, read untyped: the reporter needs only a Node's UID (see {@link #nodeUid()}). */
  private static final ResourceDefinitionContext NODES =
      ResourceDefinitionContext.fromResourceType(Node.class);

  private final KubernetesClient client;
  private final String nodeName;
  private final boolean dryRun;
  private final Duration wait;
  private final Duration heartbeat;
  private final Clock clock;
  private final SharedIndexInformer<SharedIpcNode> own;
  // one slot more than Events may take, so the report always finds room
  private final ThreadPoolExecutor writer =
      new ThreadPoolExecutor(
          1,
          1,
          0,
          TimeUnit.MILLISECONDS,
          new LinkedBlockingQueue<>(MAX_QUEUED_EVENTS + 1),
          r -> {
            Thread t = new Thread(r, "report-writer");
            t.setDaemon(true);
            return t;
          });
  private final Object lock = new Object();
  private Pending pending;
  private Instant writing;
  private long droppedEvents;
  private volatile boolean up;
  // guarded by lock: the last report handed to the writer and when; null when the next pass must
  // write
  private JsonNode basis;
  private Instant basisAt;
  // guarded by lock: resourceVersions of the last few writes, to tell our own watch events
  private final java.util.ArrayDeque<String> recentlyWritten = new java.util.ArrayDeque<>();
  private long writes;
  private long skipped;
  private boolean failedBefore; // touched by the writer thread only
  // touched by the writer thread only
  private String verifiedOwnerUid;
  // false until the report is known to be owned by its Node: until then every pass writes, so the
  // owner is set soon after the Node appears
  private volatile boolean owned;
  private boolean ownerMissingLogged;

  private record Pending(SharedIpcNodeStatus status, CompletableFuture<Boolean> done) {}

  /**
   * @param wait how long a pass waits for its report to be written before it goes on without
   *     knowing
   */
  public NodeReporter(KubernetesClient client, String nodeName, boolean dryRun, Duration wait) {
    this(client, nodeName, dryRun, wait, ReportCadence.HEARTBEAT, Clock.systemUTC());
  }

  /**
   * @param heartbeat the longest time without a write while nothing changes ({@link
   *     ReportCadence#HEARTBEAT} in the agent: the operator's staleness rule follows it)
   * @param clock what the heartbeat is timed by
   */
  public NodeReporter(
      KubernetesClient client,
      String nodeName,
      boolean dryRun,
      Duration wait,
      Duration heartbeat,
      Clock clock) {
    this.client = client;
    this.nodeName = nodeName;
    this.dryRun = dryRun;
    this.wait = wait;
    this.heartbeat = heartbeat;
    this.clock = clock;
    this.own = client.resources(SharedIpcNode.class).withName(nodeName).runnableInformer(0);
    own.exceptionHandler(new ClusterView.RetryForever("report"));
    own.addEventHandler(
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(SharedIpcNode obj) {
            observed(obj);
          }

          @Override
          public void onUpdate(SharedIpcNode oldObj, SharedIpcNode newObj) {
            observed(newObj);
          }

          @Override
          public void onDelete(SharedIpcNode obj, boolean deletedFinalStateUnknown) {
            synchronized (lock) {
              if (basis != null) {
                log.info(
                    "report deleted by someone else node={}; the next pass creates it again",
                    nodeName);
              }
              basis = null;
              recentlyWritten.clear();
            }
          }
        });
    own.start();
  }

  /**
   * A watch event on this node's report: our own writes change nothing (the last few are known by
   * resourceVersion: a watch may deliver one after a later write), nor does the object as our
   * create leaves it (no status yet), nor an edit that says what we last handed to the writer; any
   * other status makes the next pass write the report again.
   */
  private void observed(SharedIpcNode n) {
    if (n.getStatus() == null || n.getStatus().getLastScanTime() == null) {
      return; // as our create left it: the status follows
    }
    JsonNode status = tree(n.getStatus());
    synchronized (lock) {
      if (recentlyWritten.contains(n.getMetadata().getResourceVersion())) {
        return;
      }
      Optional<String> changed = ReportChange.material(basis, status);
      if (changed.isEmpty()) {
        return;
      }
      if (basis != null) {
        log.info(
            "report changed by someone else node={} resourceVersion={} at=\"{}\"; the next pass writes it again",
            nodeName,
            n.getMetadata().getResourceVersion(),
            changed.get());
      }
      basis = null;
    }
  }

  private JsonNode tree(SharedIpcNodeStatus status) {
    return client.getKubernetesSerialization().convertValue(status, JsonNode.class);
  }

  /**
   * Report writes handed to the API server since the start, and passes whose report was not written
   * because nothing changed.
   */
  public long[] writesAndSkips() {
    synchronized (lock) {
      return new long[] {writes, skipped};
    }
  }

  /**
   * Hands the report to the writer and waits for it at most {@code wait}. Returns true when it was
   * written within that time; false when it failed, or is still on its way (then it is written, or
   * replaced by the next pass's report, in the background).
   */
  public boolean report(SharedIpcNodeStatus status) {
    CompletableFuture<Boolean> done = new CompletableFuture<>();
    JsonNode tree = tree(status);
    Instant now = clock.instant();
    boolean submit;
    long dropped;
    synchronized (lock) {
      Optional<String> changed = ReportChange.material(basis, tree);
      boolean beat = basisAt == null || !now.isBefore(basisAt.plus(heartbeat));
      if (changed.isEmpty() && !beat && owned) {
        skipped++;
        return up;
      }
      String why =
          basis == null
              ? "not known to be on the server (first write, failed write, or changed by someone else)"
              : changed
                  .map(p -> "changed " + p)
                  .orElse(beat ? "heartbeat due" : "not owned by its Node yet");
      if (changed.isPresent()) {
        log.info("report write node={} why=\"{}\"", nodeName, why);
      } else {
        log.debug("report write node={} why=\"{}\"", nodeName, why);
      }
      basis = tree;
      basisAt = now;
      writes++;
      submit = pending == null;
      if (!submit) {
        log.warn(
            "report write coalesced node={} writingSince={}: the previous report is still waiting behind a slow write; "
                + "this pass's report replaces it",
            nodeName,
            writing);
        pending.done().complete(false);
      }
      pending = new Pending(status, done);
      dropped = droppedEvents;
      droppedEvents = 0;
    }
    if (dropped > 0) {
      log.warn(
          "events dropped node={} count={}: more than {} Events were waiting for a slow or absent API server",
          nodeName,
          dropped,
          MAX_QUEUED_EVENTS);
    }
    if (submit) {
      try {
        writer.execute(this::writePending);
      } catch (RejectedExecutionException e) {
        synchronized (lock) {
          pending = null;
        }
        log.warn("report write dropped node={}: the writer is closed", nodeName);
        return false;
      }
    }
    try {
      return done.get(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      log.warn(
          "report write still running after {} node={}; scanning goes on, the write finishes or fails in the background",
          dev.sharedipc.api.Durations.format(wait),
          nodeName);
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (ExecutionException e) {
      return false;
    }
  }

  private void writePending() {
    Pending p;
    synchronized (lock) {
      p = pending;
      pending = null;
      writing = Instant.now();
    }
    if (p == null) {
      return;
    }
    boolean ok = write(p.status());
    synchronized (lock) {
      writing = null;
    }
    p.done().complete(ok);
  }

  /**
   * Replaces the SharedIpcNode's status, creating the object first if needed, then makes sure the
   * Node owns it.
   */
  private boolean write(SharedIpcNodeStatus status) {
    try {
      SharedIpcNode written;
      try {
        written = replaceStatus(status);
      } catch (KubernetesClientException e) {
        if (e.getCode() != HttpURLConnection.HTTP_NOT_FOUND) {
          throw e;
        }
        create();
        written = replaceStatus(status);
      }
      synchronized (lock) {
        recentlyWritten.addLast(written.getMetadata().getResourceVersion());
        if (recentlyWritten.size() > 8) {
          recentlyWritten.removeFirst();
        }
      }
      if (!up) {
        log.info("api server reachable node={} status=written", nodeName);
      }
      up = true;
      ensureOwnedByNode(written);
    } catch (RuntimeException e) {
      synchronized (lock) {
        basis = null; // not written: the next pass tries again whatever it finds
      }
      // Said once per outage: on the first failure since the start, and on the first after a
      // success.
      if (up || !failedBefore) {
        log.warn(
            "report not written node={} reason=\"{}\"; scanning and reaping go on with the last known policies",
            nodeName,
            String.valueOf(e.getMessage()).replace('"', '\''));
      }
      failedBefore = true;
      up = false;
    }
    return up;
  }

  private SharedIpcNode replaceStatus(SharedIpcNodeStatus status) {
    String patch =
        "[{\"op\":\"add\",\"path\":\"/status\",\"value\":"
            + client.getKubernetesSerialization().asJson(status)
            + "}]";
    return client
        .resources(SharedIpcNode.class)
        .resource(named())
        .subresource("status")
        .patch(PatchContext.of(PatchType.JSON), patch);
  }

  /**
   * The object by name only: fabric8 patches a given item without reading it first (a withName()
   * patch would GET it).
   */
  private SharedIpcNode named() {
    SharedIpcNode n = new SharedIpcNode();
    n.setMetadata(new ObjectMetaBuilder().withName(nodeName).build());
    return n;
  }

  private void create() {
    SharedIpcNode fresh = new SharedIpcNode();
    ObjectMetaBuilder meta =
        new ObjectMetaBuilder()
            .withName(nodeName)
            .withLabels(Map.of("app.kubernetes.io/managed-by", "sharedipc-agent"));
    String nodeUid = nodeUid();
    if (nodeUid != null) {
      meta.withOwnerReferences(ownerRef(nodeUid));
    }
    fresh.setMetadata(meta.build());
    SharedIpcNodeSpec spec = new SharedIpcNodeSpec();
    spec.setDryRun(dryRun);
    fresh.setSpec(spec);
    try {
      client.resources(SharedIpcNode.class).resource(fresh).create();
      verifiedOwnerUid = nodeUid;
    } catch (KubernetesClientException e) {
      if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
        throw e;
      }
    }
  }

  /**
   * Adds the ownerReference to this node's Node when the report lacks it (the Node did not exist
   * when the report was created, or an older agent created it) or names a Node of another UID (the
   * node was re-created under the same name). A failure here never fails the report.
   */
  private void ensureOwnedByNode(SharedIpcNode written) {
    List<OwnerReference> refs =
        written.getMetadata().getOwnerReferences() == null
            ? List.of()
            : written.getMetadata().getOwnerReferences();
    OwnerReference current =
        refs.stream()
            .filter(r -> "Node".equals(r.getKind()) && "v1".equals(r.getApiVersion()))
            .findFirst()
            .orElse(null);
    if (current != null && current.getUid() != null && current.getUid().equals(verifiedOwnerUid)) {
      owned = true;
      return;
    }
    try {
      String nodeUid = nodeUid();
      if (nodeUid == null) {
        return;
      }
      if (current == null || !nodeUid.equals(current.getUid())) {
        List<OwnerReference> updated =
            new ArrayList<>(refs.stream().filter(r -> r != current).toList());
        updated.add(ownerRef(nodeUid));
        String patch =
            client
                .getKubernetesSerialization()
                .asJson(
                    Map.of(
                        "metadata",
                        Map.of(
                            "resourceVersion",
                            written.getMetadata().getResourceVersion(),
                            "ownerReferences",
                            updated)));
        client
            .resources(SharedIpcNode.class)
            .resource(named())
            .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
        log.info(
            "report owned by its node node={} nodeUid={}: the garbage collector removes it with the Node",
            nodeName,
            nodeUid);
      }
      verifiedOwnerUid = nodeUid;
      owned = true;
    } catch (KubernetesClientException e) {
      log.warn(
          "ownerReference not set node={} reason=\"{}\"; retried with the next report",
          nodeName,
          String.valueOf(e.getMessage()).replace('"', '\''));
    }
  }

  /**
   * The UID of this node's Node, or null when there is none (logged once: then the report has no
   * owner, retried every pass).
   */
  private String nodeUid() {
    GenericKubernetesResource node;
    try {
      // read as a generic resource: a typed Node makes Jackson build and keep (for the life of the
      // client) deserializers for the Node's 18 model classes, about 0.65 MiB of heap, for one UID
      node = client.genericKubernetesResources(NODES).withName(nodeName).get();
    } catch (KubernetesClientException e) {
      if (e.getCode() != HttpURLConnection.HTTP_FORBIDDEN) {
        throw e;
      }
      logOwnerMissing("the agent may not get Nodes (its ClusterRole needs nodes get)");
      return null;
    }
    if (node == null) {
      logOwnerMissing("no Node named " + nodeName + " exists");
      return null;
    }
    ownerMissingLogged = false;
    return node.getMetadata().getUid();
  }

  private void logOwnerMissing(String why) {
    if (!ownerMissingLogged) {
      log.info(
          "report not owned by a Node node={} reason=\"{}\"; it is not garbage-collected with the node until set (retried "
              + "every pass)",
          nodeName,
          why);
      ownerMissingLogged = true;
    }
  }

  private OwnerReference ownerRef(String nodeUid) {
    return new OwnerReferenceBuilder()
        .withApiVersion("v1")
        .withKind("Node")
        .withName(nodeName)
        .withUid(nodeUid)
        .build();
  }

  /**
   * An Event for a removal (or what a dry run would remove), on the pod when known; written in the
   * background.
   */
  public void recordEvent(Decision d) {
    if (d.action() != Action.Removed && d.action() != Action.WouldRemove) {
      return;
    }
    var a = d.finding().attribution();
    var s = d.finding().segment();
    String message =
        String.format(
            "%s System V segment shmid=%d key=%s (%d bytes) in IPC namespace %d on node %s: %s",
            d.action() == Action.Removed ? "Removed" : "Would remove (dry run)",
            s.shmid(),
            s.keyHex(),
            s.bytes(),
            s.ipcNamespace(),
            nodeName,
            d.reason());
    emit(
        a.pod(),
        "Normal",
        d.action() == Action.Removed ? "OrphanSegmentRemoved" : "OrphanSegmentWouldBeRemoved",
        message,
        "shmid=" + s.shmid());
  }

  /**
   * An Event for a removed (or, dry run, removable) SameNode shared directory, on its
   * SharedIpcGroup; written in the background.
   */
  public void recordEvent(SharedDirDecision d) {
    if ((d.action() != Action.Removed && d.action() != Action.WouldRemove) || d.owner().isEmpty()) {
      return;
    }
    SharedDirName o = d.owner().get();
    String message =
        String.format(
            "%s shared directory %s of instance %d on node %s: %s",
            d.action() == Action.Removed ? "Removed" : "Would remove (dry run)",
            d.path(),
            o.instance(),
            nodeName,
            d.reason());
    ObjectReference group =
        new ObjectReferenceBuilder()
            .withApiVersion(SharedIpcGroup.GROUP + "/" + SharedIpcGroup.VERSION)
            .withKind("SharedIpcGroup")
            .withNamespace(o.namespace())
            .withName(o.group())
            .build();
    emit(
        o.namespace(),
        group,
        d.action() == Action.Removed ? "SharedDirectoryRemoved" : "SharedDirectoryWouldBeRemoved",
        message,
        "dir=\"" + d.path() + "\"");
  }

  // ---- POSIX shared-memory objects and the crash-loop guard (issue "shared-memory inventory",
  // items 2-3) ----

  /**
   * An Event for a removed (or, dry run, removable) POSIX object, on its pod when known; written in
   * the background.
   */
  public void recordEvent(PosixObjectReaper.Decision d, PosixObjectFinding f) {
    if (d.action() != Action.Removed && d.action() != Action.WouldRemove) {
      return;
    }
    String message =
        String.format(
            "%s POSIX shared-memory object %s (%d bytes allocated) in %s volume %s on node %s: %s",
            d.action() == Action.Removed ? "Removed" : "Would remove (dry run)",
            d.object().name(),
            d.object().allocatedBytes(),
            d.object().volume().kind(),
            d.object().volume().name(),
            nodeName,
            d.judgement().reason());
    emit(
        f == null ? null : f.pod(),
        "Normal",
        d.action() == Action.Removed ? "PosixObjectRemoved" : "PosixObjectWouldBeRemoved",
        message,
        "path=\"" + d.object().path() + "\"");
  }

  /**
   * A Warning Event on the pod when its volume's crash-loop guard turns on: the volume is full and
   * a container of the pod is restarting; names the largest files, their size and whether a process
   * uses them.
   */
  public void recordGuard(PosixVolumeFinding v) {
    PosixVolumeFinding.CrashLoopGuard g = v.guard();
    String files =
        g.files().stream()
            .map(
                x ->
                    x.name()
                        + " ("
                        + x.bytes()
                        + " bytes, "
                        + (x.inUse() == null
                            ? "use unknown"
                            : x.inUse() ? "open or mapped" : "not open")
                        + ")")
            .collect(java.util.stream.Collectors.joining(", "));
    String restarting =
        !g.backOff().isEmpty()
            ? "container(s) " + String.join(", ", g.backOff()) + " in CrashLoopBackOff"
            : "container(s) "
                + String.join(", ", g.restarted())
                + " restarted within the grace period";
    String message =
        String.format(
            "%s volume %s is %d%% full (%d of %d bytes) while %s on node %s; largest files: %s. %s",
            v.volume().kind(),
            v.volume().name(),
            v.volume().sizeBytes() == 0 ? 0 : v.volume().usedBytes() * 100 / v.volume().sizeBytes(),
            v.volume().usedBytes(),
            v.volume().sizeBytes(),
            restarting,
            nodeName,
            files.isEmpty() ? "none" : files,
            g.inBackOff()
                ? "Under orphan policy Delete the agent removes the files no process has open or mapped without waiting for "
                    + "the grace period; under Report it changes nothing: remove them, raise sharedMemory.size, or set "
                    + "spec.segments.orphanPolicy: Delete."
                : "Files no process uses are removed after the grace period under orphan policy Delete, never under Report.");
    emit(
        v.pod(),
        "Warning",
        "SharedMemoryFullInCrashLoop",
        message,
        "volume=\"" + v.volume().path() + "\"");
  }

  private void emit(PodInfo pod, String type, String reason, String message, String subject) {
    String namespace = pod != null && pod.namespace() != null ? pod.namespace() : "default";
    ObjectReference involved =
        pod != null && pod.name() != null
            ? new ObjectReferenceBuilder()
                .withApiVersion("v1")
                .withKind("Pod")
                .withNamespace(namespace)
                .withName(pod.name())
                .withUid(pod.uid())
                .build()
            : new ObjectReferenceBuilder()
                .withApiVersion(SharedIpcGroup.GROUP + "/" + SharedIpcGroup.VERSION)
                .withKind("SharedIpcNode")
                .withName(nodeName)
                .build();
    emit(namespace, involved, type, reason, message, subject);
  }

  /**
   * Queues one Normal Event from this node's agent; a full queue drops it (counted, logged with the
   * next report).
   */
  private void emit(
      String namespace, ObjectReference involved, String reason, String message, String subject) {
    emit(namespace, involved, "Normal", reason, message, subject);
  }

  private void emit(
      String namespace,
      ObjectReference involved,
      String type,
      String reason,
      String message,
      String subject) {
    String now = Instant.now().toString();
    var event =
        new EventBuilder()
            .withNewMetadata()
            .withGenerateName("sharedipc-agent-")
            .withNamespace(namespace)
            .endMetadata()
            .withInvolvedObject(involved)
            .withType(type)
            .withReason(reason)
            .withMessage(message)
            .withNewSource()
            .withComponent("sharedipc-agent")
            .withHost(nodeName)
            .endSource()
            .withReportingComponent("sharedipc.dev/agent")
            .withReportingInstance(nodeName)
            .withFirstTimestamp(now)
            .withLastTimestamp(now)
            .withCount(1)
            .build();
    Runnable write =
        () -> {
          try {
            client.v1().events().inNamespace(namespace).resource(event).create();
          } catch (RuntimeException e) {
            log.warn(
                "event not recorded node={} {} reason=\"{}\"",
                nodeName,
                subject,
                String.valueOf(e.getMessage()).replace('"', '\''));
          }
        };
    synchronized (lock) {
      if (writer.getQueue().size() >= MAX_QUEUED_EVENTS) {
        droppedEvents++;
        log.debug(
            "event dropped node={} {}: {} writes waiting", nodeName, subject, MAX_QUEUED_EVENTS);
        return;
      }
      try {
        writer.execute(write);
      } catch (RejectedExecutionException e) {
        droppedEvents++;
      }
    }
  }

  /** Whether the last report write succeeded. */
  public boolean up() {
    return up;
  }

  /** Lets the write in flight finish for a few seconds, then gives up on the rest. */
  @Override
  public void close() {
    own.close();
    writer.shutdown();
    try {
      if (!writer.awaitTermination(5, TimeUnit.SECONDS)) {
        writer.shutdownNow();
      }
    } catch (InterruptedException e) {
      writer.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
