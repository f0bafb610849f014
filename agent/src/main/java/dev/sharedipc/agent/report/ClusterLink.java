package dev.sharedipc.agent.report;

import dev.sharedipc.agent.PolicyResolver;
import dev.sharedipc.agent.attribution.Attribution;
import dev.sharedipc.agent.attribution.NodePod;
import dev.sharedipc.agent.attribution.NodePods;
import dev.sharedipc.agent.attribution.PodDirectory;
import dev.sharedipc.agent.attribution.PodInfo;
import dev.sharedipc.agent.reap.Action;
import dev.sharedipc.agent.reap.Decision;
import dev.sharedipc.agent.reap.SharedDirDecision;
import dev.sharedipc.agent.scan.SharedDirName;
import dev.sharedipc.api.Durations;
import dev.sharedipc.agent.verdict.Policy;
import dev.sharedipc.api.Labels;
import dev.sharedipc.api.v1alpha1.OrphanPolicy;
import dev.sharedipc.api.v1alpha1.SegmentsSpec;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcNode;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeSpec;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything the agent asks of and tells the API server, behind one class: pod metadata from an
 * informer limited to this node, group policies from an informer on SharedIpcGroups, the
 * SharedIpcNode status, and Events on removals. Informer caches keep their last contents while
 * the API server is away, and policies seen are remembered too, so the agent keeps scanning and
 * reaping by the last known policy and reports again when the server returns.
 */
public final class ClusterLink implements PodDirectory, PolicyResolver, NodePods, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ClusterLink.class);
  private static final String UID_INDEX = "uid";

  private final KubernetesClient client;
  private final String nodeName;
  private final boolean dryRun;
  private final SharedIndexInformer<Pod> pods;
  private final SharedIndexInformer<SharedIpcGroup> groups;
  private final Map<String, Policy> lastKnown = new ConcurrentHashMap<>();
  private volatile boolean up;

  public ClusterLink(KubernetesClient client, String nodeName, boolean dryRun) {
    this.client = client;
    this.nodeName = nodeName;
    this.dryRun = dryRun;
    this.pods = client.pods().inAnyNamespace().withField("spec.nodeName", nodeName).runnableInformer(0);
    this.pods.addIndexers(Map.of(UID_INDEX, p -> List.of(p.getMetadata().getUid())));
    this.groups = client.resources(SharedIpcGroup.class).inAnyNamespace().runnableInformer(0);
    // start() retries in the background: an API server that is down at start is not fatal
    this.pods.start();
    this.groups.start();
  }

  @Override
  public Optional<PodInfo> byUid(String uid) {
    List<Pod> found = pods.getIndexer().byIndex(UID_INDEX, uid);
    if (found.isEmpty()) {
      return Optional.empty();
    }
    Pod p = found.get(0);
    Map<String, String> labels = p.getMetadata().getLabels() == null ? Map.of() : p.getMetadata().getLabels();
    Integer instance = null;
    try {
      instance = labels.containsKey(Labels.INSTANCE) ? Integer.valueOf(labels.get(Labels.INSTANCE)) : null;
    } catch (NumberFormatException e) {
      // a label we did not write; attribution to the group still holds
    }
    return Optional.of(new PodInfo(uid, p.getMetadata().getNamespace(), p.getMetadata().getName(), labels.get(Labels.GROUP), instance));
  }

  @Override
  public Policy policyFor(Attribution a) {
    String key = a.groupKey();
    if (key == null) {
      return new Policy(OrphanPolicy.Report, Duration.ofMinutes(10), a.pod() == null
          ? "pod " + a.podUid() + " not known to the API server" : "pod " + a.podLabel() + " is in no SharedIpcGroup");
    }
    return groupPolicy(key).orElseGet(() -> new Policy(OrphanPolicy.Report, Duration.ofMinutes(10), "group " + key + " not found"));
  }

  /** The group's policy from the informer, else the last one seen (the group may just have been deleted), else empty. */
  private Optional<Policy> groupPolicy(String key) {
    SharedIpcGroup g = groups.getStore().getByKey(key);
    if (g == null) {
      return Optional.ofNullable(lastKnown.get(key));
    }
    SegmentsSpec seg = g.getSpec() == null ? null : g.getSpec().getSegments();
    OrphanPolicy policy = seg == null || seg.getOrphanPolicy() == null ? OrphanPolicy.Report : seg.getOrphanPolicy();
    Duration grace;
    try {
      grace = Durations.parse(seg == null || seg.getOrphanGracePeriod() == null ? "10m" : seg.getOrphanGracePeriod());
    } catch (IllegalArgumentException e) {
      return Optional.of(new Policy(OrphanPolicy.Report, Duration.ofMinutes(10), "group " + key + " has an unreadable orphanGracePeriod"));
    }
    Policy p = new Policy(policy, grace, "group " + key);
    lastKnown.put(key, p);
    return Optional.of(p);
  }

  /** Only while the pod informer has synced and is watching: a stale or partial list could make a live instance look gone. */
  @Override
  public Optional<List<NodePod>> onThisNode() {
    if (!pods.hasSynced() || !pods.isWatching()) {
      return Optional.empty();
    }
    return Optional.of(pods.getStore().list().stream()
        .map(p -> new NodePod(p.getMetadata().getNamespace(), p.getMetadata().getName(), p.getMetadata().getLabels(),
            p.getStatus() == null ? null : p.getStatus().getPhase(), controllerUid(p), hostPathNames(p)))
        .toList());
  }

  /** The last path element of each hostPath volume: the SameNode shared directory a member mounts. */
  private static java.util.Set<String> hostPathNames(Pod p) {
    return p.getSpec() == null || p.getSpec().getVolumes() == null ? java.util.Set.of() : p.getSpec().getVolumes().stream()
        .filter(v -> v.getHostPath() != null && v.getHostPath().getPath() != null)
        .map(v -> java.nio.file.Path.of(v.getHostPath().getPath()).getFileName())
        .filter(java.util.Objects::nonNull)
        .map(Object::toString)
        .collect(java.util.stream.Collectors.toSet());
  }

  /** The uid of the pod's controller (its SharedIpcGroup for the operator's pods), or null. */
  private static String controllerUid(Pod p) {
    return p.getMetadata().getOwnerReferences() == null ? null : p.getMetadata().getOwnerReferences().stream()
        .filter(r -> Boolean.TRUE.equals(r.getController())).map(r -> r.getUid()).findFirst().orElse(null);
  }

  /**
   * Calls {@code listener} with every pod of this node as it is added or changes (the ones already
   * known at once): the hook that makes SameNode shared directories before the kubelet mounts them
   * ({@code prepare.SharedDirPreparer}). A listener that throws is logged; the informer goes on.
   */
  public void onPod(java.util.function.Consumer<Pod> listener) {
    pods.addEventHandler(new io.fabric8.kubernetes.client.informers.ResourceEventHandler<Pod>() {
      @Override
      public void onAdd(Pod pod) {
        call(pod);
      }

      @Override
      public void onUpdate(Pod old, Pod pod) {
        call(pod);
      }

      @Override
      public void onDelete(Pod pod, boolean deletedFinalStateUnknown) {}

      private void call(Pod pod) {
        try {
          listener.accept(pod);
        } catch (RuntimeException e) {
          log.warn("pod listener failed pod={}/{} reason=\"{}\"", pod.getMetadata().getNamespace(), pod.getMetadata().getName(), e.toString());
        }
      }
    });
  }

  @Override
  public Optional<Duration> orphanGrace(String namespace, String group) {
    return groupPolicy(namespace + "/" + group).map(Policy::grace);
  }

  /** Creates the node's SharedIpcNode if needed and replaces its status. Returns false (and logs) when the server is away. */
  public boolean writeStatus(SharedIpcNodeStatus status) {
    try {
      var nodes = client.resources(SharedIpcNode.class);
      SharedIpcNode current = nodes.withName(nodeName).get();
      if (current == null) {
        SharedIpcNode fresh = new SharedIpcNode();
        fresh.setMetadata(new ObjectMetaBuilder().withName(nodeName)
            .withLabels(Map.of("app.kubernetes.io/managed-by", "sharedipc-agent")).build());
        SharedIpcNodeSpec spec = new SharedIpcNodeSpec();
        spec.setDryRun(dryRun);
        fresh.setSpec(spec);
        current = nodes.resource(fresh).create();
      }
      SharedIpcNode patch = new SharedIpcNode();
      patch.setMetadata(new ObjectMetaBuilder().withName(nodeName).build());
      patch.setStatus(status);
      nodes.resource(patch).patchStatus();
      if (!up) {
        log.info("api server reachable node={} status=written", nodeName);
      }
      up = true;
    } catch (RuntimeException e) {
      if (up) {
        log.warn("api server unreachable node={} reason=\"{}\"; scanning and reaping go on with the last known policies", nodeName,
            e.getMessage());
      }
      up = false;
    }
    return up;
  }

  /** An Event for a removal (or what a dry run would remove), on the pod when known. */
  public void recordEvent(Decision d) {
    if (d.action() != Action.Removed && d.action() != Action.WouldRemove) {
      return;
    }
    var a = d.finding().attribution();
    var s = d.finding().segment();
    String message = String.format("%s System V segment shmid=%d key=%s (%d bytes) in IPC namespace %d on node %s: %s",
        d.action() == Action.Removed ? "Removed" : "Would remove (dry run)", s.shmid(), s.keyHex(), s.bytes(), s.ipcNamespace(),
        nodeName, d.reason());
    String namespace = a.pod() != null && a.pod().namespace() != null ? a.pod().namespace() : "default";
    var involved = a.pod() != null && a.pod().name() != null
        ? new io.fabric8.kubernetes.api.model.ObjectReferenceBuilder().withApiVersion("v1").withKind("Pod")
            .withNamespace(namespace).withName(a.pod().name()).withUid(a.podUid()).build()
        : new io.fabric8.kubernetes.api.model.ObjectReferenceBuilder().withApiVersion(SharedIpcGroup.GROUP + "/" + SharedIpcGroup.VERSION)
            .withKind("SharedIpcNode").withName(nodeName).build();
    emit(namespace, involved, d.action() == Action.Removed ? "OrphanSegmentRemoved" : "OrphanSegmentWouldBeRemoved",
        message, "shmid=" + s.shmid());
  }

  /** An Event for a removed (or, dry run, removable) SameNode shared directory, on its SharedIpcGroup; only while connected. */
  public void recordEvent(SharedDirDecision d) {
    if ((d.action() != Action.Removed && d.action() != Action.WouldRemove) || d.owner().isEmpty() || onThisNode().isEmpty()) {
      return;
    }
    SharedDirName o = d.owner().get();
    String message = String.format("%s shared directory %s of instance %d on node %s: %s",
        d.action() == Action.Removed ? "Removed" : "Would remove (dry run)", d.path(), o.instance(), nodeName, d.reason());
    var group = new io.fabric8.kubernetes.api.model.ObjectReferenceBuilder()
        .withApiVersion(SharedIpcGroup.GROUP + "/" + SharedIpcGroup.VERSION).withKind("SharedIpcGroup")
        .withNamespace(o.namespace()).withName(o.group()).build();
    emit(o.namespace(), group, d.action() == Action.Removed ? "SharedDirectoryRemoved" : "SharedDirectoryWouldBeRemoved",
        message, "dir=\"" + d.path() + "\"");
  }

  /** Creates one Normal Event from this node's agent; a failure is logged, never thrown (an Event is a report). */
  private void emit(String namespace, io.fabric8.kubernetes.api.model.ObjectReference involved, String reason, String message,
      String subject) {
    String now = Instant.now().toString();
    try {
      client.v1().events().inNamespace(namespace).resource(new EventBuilder()
          .withNewMetadata().withGenerateName("sharedipc-agent-").withNamespace(namespace).endMetadata()
          .withInvolvedObject(involved)
          .withType("Normal")
          .withReason(reason)
          .withMessage(message)
          .withNewSource().withComponent("sharedipc-agent").withHost(nodeName).endSource()
          .withReportingComponent("sharedipc.dev/agent").withReportingInstance(nodeName)
          .withFirstTimestamp(now).withLastTimestamp(now).withCount(1)
          .build()).create();
    } catch (RuntimeException e) {
      log.warn("event not recorded node={} {} reason=\"{}\"", nodeName, subject, e.getMessage());
    }
  }

  public boolean up() {
    return up;
  }

  @Override
  public void close() {
    pods.close();
    groups.close();
  }
}
