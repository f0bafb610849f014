package dev.sharedipc.agent.report;

import dev.sharedipc.agent.attribution.Attribution;
import dev.sharedipc.agent.attribution.NodePod;
import dev.sharedipc.agent.attribution.NodePods;
import dev.sharedipc.agent.attribution.PodDirectory;
import dev.sharedipc.agent.attribution.PodInfo;
import dev.sharedipc.agent.verdict.Policy;
import dev.sharedipc.agent.verdict.PolicyResolver;
import dev.sharedipc.api.Durations;
import dev.sharedipc.api.Labels;
import dev.sharedipc.api.v1alpha1.EffectiveOrphanPolicy;
import dev.sharedipc.api.v1alpha1.OrphanPolicy;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the agent reads from the API server: this node's pods and every SharedIpcGroup, each from an
 * informer, and the orphan policy of a pod's group as the operator publishes it in {@code
 * status.effectiveOrphanPolicy} (the group's spec is never read: only the operator knows whether a
 * SharedIpcPolicy caps it).
 *
 * <p>The informers retry forever, with fabric8's backoff (1 s doubling to 32 s): an API server that
 * is away when the agent starts, refuses it, or drops a watch is listed again until it answers.
 * Their caches keep their last contents while the server is away, so the agent keeps scanning and
 * reaping by the last known policies. An informer that has not listed yet makes the agent not ready
 * ({@link #notReady()}); one that has stopped (it never retries again) makes it unhealthy ({@link
 * #unhealthy()}).
 */
public final class ClusterView implements PodDirectory, PolicyResolver, NodePods, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ClusterView.class);
  private static final String UID_INDEX = "uid";

  /**
   * Groups whose last policy is remembered after they leave the cache; plenty for one node, bounded
   * whatever happens.
   */
  static final int LAST_KNOWN_GROUPS = 1024;

  private static final Duration DEFAULT_GRACE = Duration.ofMinutes(10);

  private final SharedIndexInformer<Pod> pods;
  private final SharedIndexInformer<SharedIpcGroup> groups;
  private final Map<String, SharedIndexInformer<?>> informers;
  private final Map<String, Policy> lastKnown =
      Collections.synchronizedMap(
          new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Policy> eldest) {
              return size() > LAST_KNOWN_GROUPS;
            }
          });

  public ClusterView(KubernetesClient client, String nodeName) {
    this.pods =
        client.pods().inAnyNamespace().withField("spec.nodeName", nodeName).runnableInformer(0);
    this.pods.itemStore(new TrimmingStore<>(ClusterView::trimmed));
    this.pods.addIndexers(Map.of(UID_INDEX, p -> List.of(p.getMetadata().getUid())));
    this.groups = client.resources(SharedIpcGroup.class).inAnyNamespace().runnableInformer(0);
    // every group of the cluster is cached, so each keeps only what the agent reads (its published
    // policy)
    this.groups.itemStore(new TrimmingStore<>(ClusterView::trimmed));
    this.informers = Map.of("pods", pods, "groups", groups);
    informers.forEach(
        (name, informer) -> {
          informer.exceptionHandler(new RetryForever(name));
          // fabric8's default handler gives up when the first list fails (and on any watch error):
          // the start future would then fail and the informer stay stopped for the life of the
          // agent.
          informer
              .start()
              .whenComplete(
                  (ok, failed) -> {
                    if (failed == null) {
                      log.info("informer synced informer={} node={}", name, nodeName);
                    }
                  });
        });
  }

  /**
   * An informer's cache that keeps a trimmed copy of each object: the agent's heap holds what it
   * reads, not whole objects (a group's pod templates, a pod's managedFields). Event handlers still
   * receive the objects as the API server sent them.
   */
  static final class TrimmingStore<T extends io.fabric8.kubernetes.api.model.HasMetadata>
      extends io.fabric8.kubernetes.client.informers.cache.BasicItemStore<T> {
    private final java.util.function.UnaryOperator<T> trim;

    TrimmingStore(java.util.function.UnaryOperator<T> trim) {
      super(io.fabric8.kubernetes.client.informers.cache.Cache::metaNamespaceKeyFunc);
      this.trim = trim;
    }

    @Override
    public T put(String key, T obj) {
      return super.put(key, trim.apply(obj));
    }
  }

  /**
   * A group as the agent reads it: its name and the orphan policy the operator publishes in its
   * status.
   */
  static SharedIpcGroup trimmed(SharedIpcGroup g) {
    SharedIpcGroup t = new SharedIpcGroup();
    t.setMetadata(
        new io.fabric8.kubernetes.api.model.ObjectMetaBuilder()
            .withNamespace(g.getMetadata().getNamespace())
            .withName(g.getMetadata().getName())
            .withUid(g.getMetadata().getUid())
            .withResourceVersion(g.getMetadata().getResourceVersion())
            .build());
    if (g.getStatus() != null && g.getStatus().getEffectiveOrphanPolicy() != null) {
      dev.sharedipc.api.v1alpha1.SharedIpcGroupStatus status =
          new dev.sharedipc.api.v1alpha1.SharedIpcGroupStatus();
      status.setEffectiveOrphanPolicy(g.getStatus().getEffectiveOrphanPolicy());
      t.setStatus(status);
    }
    return t;
  }

  /**
   * A pod without its managedFields, which the agent never reads (the largest part of a small pod).
   */
  static Pod trimmed(Pod p) {
    if (p.getMetadata().getManagedFields() == null
        || p.getMetadata().getManagedFields().isEmpty()) {
      return p;
    }
    return new io.fabric8.kubernetes.api.model.PodBuilder(p)
        .editMetadata()
        .withManagedFields((List<io.fabric8.kubernetes.api.model.ManagedFieldsEntry>) null)
        .endMetadata()
        .build();
  }

  /**
   * Retries whatever failed (fabric8 schedules the retry with its backoff). One warning line per
   * informer at most every five minutes; fabric8 itself logs each retry.
   */
  static final class RetryForever
      implements io.fabric8.kubernetes.client.informers.ExceptionHandler {
    private static final long QUIET_NANOS = Duration.ofMinutes(5).toNanos();
    private final String name;
    private final AtomicLong lastWarned = new AtomicLong(System.nanoTime() - QUIET_NANOS);

    RetryForever(String name) {
      this.name = name;
    }

    @Override
    public boolean retryAfterException(boolean isStarted, Throwable t) {
      long now = System.nanoTime();
      long last = lastWarned.get();
      if (now - last >= QUIET_NANOS && lastWarned.compareAndSet(last, now)) {
        log.warn(
            "informer failing informer={} listedOnce={} reason=\"{}\"; retrying with backoff (1s doubling to 32s) until the "
                + "API server answers",
            name,
            isStarted,
            t.toString().replace('"', '\''));
      }
      return true;
    }
  }

  /** Whether each informer ("pods", "groups") has listed at least once. */
  public Map<String, Boolean> synced() {
    Map<String, Boolean> synced = new java.util.TreeMap<>();
    informers.forEach((name, informer) -> synced.put(name, informer.hasSynced()));
    return synced;
  }

  /**
   * Why the agent is not ready: an informer that has not listed yet (API server away since the
   * start, or refusing the agent). The agent still scans, and judges every segment under Report.
   */
  public Optional<String> notReady() {
    List<String> unsynced =
        synced().entrySet().stream().filter(e -> !e.getValue()).map(Map.Entry::getKey).toList();
    return unsynced.isEmpty()
        ? Optional.empty()
        : Optional.of(
            "informer(s) "
                + String.join(", ", unsynced)
                + " not synced yet: the API server has not answered a list "
                + "(retrying with backoff; the agent log says why)");
  }

  /**
   * Why the agent is unhealthy: an informer that stopped, which never retries again, so only a
   * restart brings the agent's view of the cluster back. An API server that is merely away is not a
   * reason (a restart would not bring it back; the informers retry on their own).
   */
  public Optional<String> unhealthy() {
    List<String> stopped =
        informers.entrySet().stream()
            .filter(e -> e.getValue().stopped().toCompletableFuture().isDone())
            .map(Map.Entry::getKey)
            .sorted()
            .toList();
    return stopped.isEmpty()
        ? Optional.empty()
        : Optional.of(
            "informer(s) "
                + String.join(", ", stopped)
                + " stopped and will not retry: restart the agent");
  }

  @Override
  public Optional<PodInfo> byUid(String uid) {
    List<Pod> found = pods.getIndexer().byIndex(UID_INDEX, uid);
    if (found.isEmpty()) {
      return Optional.empty();
    }
    Pod p = found.get(0);
    Map<String, String> labels =
        p.getMetadata().getLabels() == null ? Map.of() : p.getMetadata().getLabels();
    Integer instance = null;
    try {
      instance =
          labels.containsKey(Labels.INSTANCE) ? Integer.valueOf(labels.get(Labels.INSTANCE)) : null;
    } catch (NumberFormatException e) {
      // a label we did not write; attribution to the group still holds
    }
    return Optional.of(
        new PodInfo(
            uid,
            p.getMetadata().getNamespace(),
            p.getMetadata().getName(),
            labels.get(Labels.GROUP),
            instance));
  }

  @Override
  public Policy policyFor(Attribution a) {
    String key = a.groupKey();
    if (key == null) {
      return new Policy(
          OrphanPolicy.Report,
          DEFAULT_GRACE,
          a.pod() == null
              ? "pod " + a.podUid() + " not known to the API server"
              : "pod " + a.podLabel() + " is in no SharedIpcGroup");
    }
    return groupPolicy(key)
        .orElseGet(
            () -> new Policy(OrphanPolicy.Report, DEFAULT_GRACE, "group " + key + " not found"));
  }

  /**
   * The group's published policy from the informer, else the last one seen (the group may just have
   * been deleted), else empty.
   */
  private Optional<Policy> groupPolicy(String key) {
    SharedIpcGroup g = groups.getStore().getByKey(key);
    if (g == null) {
      return Optional.ofNullable(lastKnown.get(key));
    }
    Policy p =
        published(key, g.getStatus() == null ? null : g.getStatus().getEffectiveOrphanPolicy());
    lastKnown.put(key, p);
    return Optional.of(p);
  }

  /**
   * The policy the operator published for a group, and nothing else: none published (not reconciled
   * yet, or breaking a SharedIpcPolicy) or an unreadable grace period is Report.
   */
  static Policy published(String key, EffectiveOrphanPolicy e) {
    if (e == null || e.getPolicy() == null) {
      return new Policy(
          OrphanPolicy.Report,
          DEFAULT_GRACE,
          "group "
              + key
              + " has no status.effectiveOrphanPolicy (the operator "
              + "has not published one: not reconciled yet, or the group breaks a SharedIpcPolicy)");
    }
    Duration grace;
    try {
      grace = Durations.parse(e.getGracePeriod() == null ? "10m" : e.getGracePeriod());
    } catch (IllegalArgumentException ex) {
      return new Policy(
          OrphanPolicy.Report,
          DEFAULT_GRACE,
          "group "
              + key
              + " publishes an unreadable "
              + "status.effectiveOrphanPolicy.gracePeriod '"
              + e.getGracePeriod()
              + "'");
    }
    return new Policy(
        e.getPolicy(), grace, "group " + key + (e.getSource() == null ? "" : ": " + e.getSource()));
  }

  /**
   * Only while the pod informer has synced and is watching: a stale or partial list could make a
   * live instance look gone.
   */
  @Override
  public Optional<List<NodePod>> onThisNode() {
    if (!pods.hasSynced() || !pods.isWatching()) {
      return Optional.empty();
    }
    return Optional.of(pods.getStore().list().stream().map(ClusterView::nodePod).toList());
  }

  @Override
  public Optional<NodePod> nodePod(String uid) {
    List<Pod> found = pods.getIndexer().byIndex(UID_INDEX, uid);
    return found.isEmpty() ? Optional.empty() : Optional.of(nodePod(found.get(0)));
  }

  private static NodePod nodePod(Pod p) {
    return new NodePod(
        p.getMetadata().getNamespace(),
        p.getMetadata().getName(),
        p.getMetadata().getLabels(),
        p.getStatus() == null ? null : p.getStatus().getPhase(),
        controllerUid(p),
        hostPathNames(p),
        containers(p));
  }

  /**
   * Every container status of the pod (init containers too): waiting reason, restarts, last
   * termination.
   */
  static List<NodePod.Container> containers(Pod p) {
    if (p.getStatus() == null) {
      return List.of();
    }
    List<io.fabric8.kubernetes.api.model.ContainerStatus> all = new java.util.ArrayList<>();
    if (p.getStatus().getInitContainerStatuses() != null) {
      all.addAll(p.getStatus().getInitContainerStatuses());
    }
    if (p.getStatus().getContainerStatuses() != null) {
      all.addAll(p.getStatus().getContainerStatuses());
    }
    return all.stream()
        .map(
            c ->
                new NodePod.Container(
                    c.getName(),
                    c.getState() != null && c.getState().getWaiting() != null
                        ? c.getState().getWaiting().getReason()
                        : null,
                    c.getRestartCount() == null ? 0 : c.getRestartCount(),
                    lastTerminated(c)))
        .toList();
  }

  private static java.time.Instant lastTerminated(
      io.fabric8.kubernetes.api.model.ContainerStatus c) {
    var t = c.getLastState() == null ? null : c.getLastState().getTerminated();
    if (t == null || t.getFinishedAt() == null) {
      return null;
    }
    try {
      return java.time.Instant.parse(t.getFinishedAt());
    } catch (java.time.format.DateTimeParseException e) {
      return null;
    }
  }

  /**
   * The last path element of each hostPath volume: the SameNode shared directory a member mounts.
   */
  private static java.util.Set<String> hostPathNames(Pod p) {
    return p.getSpec() == null || p.getSpec().getVolumes() == null
        ? java.util.Set.of()
        : p.getSpec().getVolumes().stream()
            .filter(v -> v.getHostPath() != null && v.getHostPath().getPath() != null)
            .map(v -> java.nio.file.Path.of(v.getHostPath().getPath()).getFileName())
            .filter(java.util.Objects::nonNull)
            .map(Object::toString)
            .collect(java.util.stream.Collectors.toSet());
  }

  /** The uid of the pod's controller (its SharedIpcGroup for the operator's pods), or null. */
  private static String controllerUid(Pod p) {
    return p.getMetadata().getOwnerReferences() == null
        ? null
        : p.getMetadata().getOwnerReferences().stream()
            .filter(r -> Boolean.TRUE.equals(r.getController()))
            .map(r -> r.getUid())
            .findFirst()
            .orElse(null);
  }

  /**
   * Calls {@code listener} with every pod of this node as it is added or changes (the ones already
   * known at once): the hook that makes SameNode shared directories before the kubelet mounts them
   * ({@code prepare.SharedDirPreparer}). A listener that throws is logged; the informer goes on.
   */
  public void onPod(java.util.function.Consumer<Pod> listener) {
    pods.addEventHandler(
        new io.fabric8.kubernetes.client.informers.ResourceEventHandler<Pod>() {
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
              log.warn(
                  "pod listener failed pod={}/{} reason=\"{}\"",
                  pod.getMetadata().getNamespace(),
                  pod.getMetadata().getName(),
                  e.toString());
            }
          }
        });
  }

  @Override
  public Optional<Duration> orphanGrace(String namespace, String group) {
    return groupPolicy(namespace + "/" + group).map(Policy::grace);
  }

  @Override
  public void close() {
    pods.close();
    groups.close();
  }
}
