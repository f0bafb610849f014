package dev.sharedipc.agent.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sharedipc.agent.attribution.PodInfo;
import dev.sharedipc.agent.kube.ApiException;
import dev.sharedipc.agent.kube.Informer;
import dev.sharedipc.agent.kube.Json;
import dev.sharedipc.agent.kube.KubeApi;
import dev.sharedipc.agent.reap.Action;
import dev.sharedipc.agent.reap.Decision;
import dev.sharedipc.agent.reap.PosixObjectReaper;
import dev.sharedipc.agent.reap.SharedDirDecision;
import dev.sharedipc.agent.scan.SharedDirName;
import dev.sharedipc.agent.survey.PosixObjectFinding;
import dev.sharedipc.agent.survey.PosixVolumeFinding;
import dev.sharedipc.api.ReportCadence;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus;
import java.net.HttpURLConnection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
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
 * packets (each request can then wait out the client's 10 s timeout) never delays scanning and
 * reaping. While a write is in flight, a newer report replaces the one still waiting (only the
 * latest matters), and Events beyond {@value #MAX_QUEUED_EVENTS} waiting are dropped; both are
 * logged.
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

  /** The API group and version of the agent's report and of the groups. */
  static final String API_VERSION =
      dev.sharedipc.api.v1alpha1.SharedIpcGroup.GROUP
          + "/"
          + dev.sharedipc.api.v1alpha1.SharedIpcGroup.VERSION;

  private static final String REPORTS = "/apis/" + API_VERSION + "/sharedipcnodes";

  private final KubeApi api;
  private final String nodeName;
  private final boolean dryRun;
  private final Duration wait;
  private final Duration heartbeat;
  private final Clock clock;
  private final Informer<Boolean> own;
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

  /** A report waiting for the writer, as the tree compared with the last one and sent as is. */
  private record Pending(JsonNode status, CompletableFuture<Boolean> done) {}

  /**
   * @param wait how long a pass waits for its report to be written before it goes on without
   *     knowing
   */
  public NodeReporter(KubeApi api, String nodeName, boolean dryRun, Duration wait) {
    this(api, nodeName, dryRun, wait, ReportCadence.HEARTBEAT, Clock.systemUTC());
  }

  /**
   * @param heartbeat the longest time without a write while nothing changes ({@link
   *     ReportCadence#HEARTBEAT} in the agent: the operator's staleness rule follows it)
   * @param clock what the heartbeat is timed by
   */
  public NodeReporter(
      KubeApi api,
      String nodeName,
      boolean dryRun,
      Duration wait,
      Duration heartbeat,
      Clock clock) {
    this.api = api;
    this.nodeName = nodeName;
    this.dryRun = dryRun;
    this.wait = wait;
    this.heartbeat = heartbeat;
    this.clock = clock;
    // the cache keeps nothing of the object: the listener reads what it needs as it comes
    this.own =
        new Informer<>(
            api,
            "report",
            REPORTS,
            "metadata.name=" + nodeName,
            Informer::namespacedName,
            o -> true);
    own.listen(
        new Informer.Listener() {
          @Override
          public void changed(JsonNode object) {
            observed(object);
          }

          @Override
          public void deleted(String key) {
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
  private void observed(JsonNode n) {
    JsonNode sent = n.get("status");
    if (sent == null || !sent.hasNonNull("lastScanTime")) {
      return; // as our create left it: the status follows
    }
    String version = n.path("metadata").path("resourceVersion").asText();
    synchronized (lock) {
      if (recentlyWritten.contains(version)) {
        return;
      }
      Optional<String> changed = ReportChange.material(basis, sent);
      if (changed.isEmpty()) {
        return;
      }
      if (basis != null) {
        log.info(
            "report changed by someone else node={} resourceVersion={} at=\"{}\"; the next pass writes it again",
            nodeName,
            version,
            changed.get());
      }
      basis = null;
    }
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
    JsonNode tree = Json.tree(status);
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
      pending = new Pending(tree, done);
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
  private boolean write(JsonNode status) {
    try {
      JsonNode written;
      try {
        written = replaceStatus(status);
      } catch (ApiException e) {
        if (e.code() != HttpURLConnection.HTTP_NOT_FOUND) {
          throw e;
        }
        create();
        written = replaceStatus(status);
      }
      synchronized (lock) {
        recentlyWritten.addLast(written.path("metadata").path("resourceVersion").asText());
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

  private JsonNode replaceStatus(JsonNode status) {
    ArrayNode patch = Json.array();
    patch.addObject().put("op", "add").put("path", "/status").set("value", status);
    return api.patch(REPORTS + "/" + nodeName + "/status", KubeApi.JSON_PATCH, patch);
  }

  private void create() {
    ObjectNode fresh = Json.object();
    fresh.put("apiVersion", API_VERSION).put("kind", "SharedIpcNode");
    ObjectNode meta = fresh.putObject("metadata");
    meta.put("name", nodeName);
    meta.putObject("labels").put("app.kubernetes.io/managed-by", "sharedipc-agent");
    String nodeUid = nodeUid();
    if (nodeUid != null) {
      meta.putArray("ownerReferences").add(ownerRef(nodeUid));
    }
    fresh.putObject("spec").put("dryRun", dryRun);
    try {
      api.create(REPORTS, fresh);
      verifiedOwnerUid = nodeUid;
    } catch (ApiException e) {
      if (e.code() != HttpURLConnection.HTTP_CONFLICT) {
        throw e;
      }
    }
  }

  /**
   * Adds the ownerReference to this node's Node when the report lacks it (the Node did not exist
   * when the report was created, or an older agent created it) or names a Node of another UID (the
   * node was re-created under the same name). A failure here never fails the report.
   */
  private void ensureOwnedByNode(JsonNode written) {
    List<JsonNode> refs = new ArrayList<>();
    written.path("metadata").path("ownerReferences").forEach(refs::add);
    JsonNode current =
        refs.stream()
            .filter(
                r ->
                    "Node".equals(r.path("kind").asText())
                        && "v1".equals(r.path("apiVersion").asText()))
            .findFirst()
            .orElse(null);
    String currentUid = current == null ? null : current.path("uid").asText(null);
    if (currentUid != null && currentUid.equals(verifiedOwnerUid)) {
      owned = true;
      return;
    }
    try {
      String nodeUid = nodeUid();
      if (nodeUid == null) {
        return;
      }
      if (!nodeUid.equals(currentUid)) {
        ObjectNode patch = Json.object();
        ObjectNode meta = patch.putObject("metadata");
        meta.put("resourceVersion", written.path("metadata").path("resourceVersion").asText());
        ArrayNode updated = meta.putArray("ownerReferences");
        refs.stream().filter(r -> r != current).forEach(updated::add);
        updated.add(ownerRef(nodeUid));
        api.patch(REPORTS + "/" + nodeName, KubeApi.MERGE_PATCH, patch);
        log.info(
            "report owned by its node node={} nodeUid={}: the garbage collector removes it with the Node",
            nodeName,
            nodeUid);
      }
      verifiedOwnerUid = nodeUid;
      owned = true;
    } catch (ApiException e) {
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
    JsonNode node;
    try {
      node = api.get("/api/v1/nodes/" + nodeName);
    } catch (ApiException e) {
      if (e.code() != HttpURLConnection.HTTP_FORBIDDEN) {
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
    return node.path("metadata").path("uid").asText();
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

  private ObjectNode ownerRef(String nodeUid) {
    return Json.object()
        .put("apiVersion", "v1")
        .put("kind", "Node")
        .put("name", nodeName)
        .put("uid", nodeUid);
  }

  /** An Event's involvedObject. */
  private static ObjectNode reference(
      String apiVersion, String kind, String namespace, String name, String uid) {
    ObjectNode ref = Json.object().put("apiVersion", apiVersion).put("kind", kind);
    if (namespace != null) {
      ref.put("namespace", namespace);
    }
    ref.put("name", name);
    if (uid != null) {
      ref.put("uid", uid);
    }
    return ref;
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
    ObjectNode group = reference(API_VERSION, "SharedIpcGroup", o.namespace(), o.group(), null);
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
    ObjectNode involved =
        pod != null && pod.name() != null
            ? reference("v1", "Pod", namespace, pod.name(), pod.uid())
            : reference(API_VERSION, "SharedIpcNode", null, nodeName, null);
    emit(namespace, involved, type, reason, message, subject);
  }

  /**
   * Queues one Normal Event from this node's agent; a full queue drops it (counted, logged with the
   * next report).
   */
  private void emit(
      String namespace, ObjectNode involved, String reason, String message, String subject) {
    emit(namespace, involved, "Normal", reason, message, subject);
  }

  private void emit(
      String namespace,
      ObjectNode involved,
      String type,
      String reason,
      String message,
      String subject) {
    String now = Instant.now().toString();
    ObjectNode event = Json.object().put("apiVersion", "v1").put("kind", "Event");
    event.putObject("metadata").put("generateName", "sharedipc-agent-").put("namespace", namespace);
    event.set("involvedObject", involved);
    event.put("type", type).put("reason", reason).put("message", message);
    event.putObject("source").put("component", "sharedipc-agent").put("host", nodeName);
    event
        .put("reportingComponent", "sharedipc.dev/agent")
        .put("reportingInstance", nodeName)
        .put("firstTimestamp", now)
        .put("lastTimestamp", now)
        .put("count", 1);
    Runnable write =
        () -> {
          try {
            api.create("/api/v1/namespaces/" + namespace + "/events", event);
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
