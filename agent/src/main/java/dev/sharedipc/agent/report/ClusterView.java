package dev.sharedipc.agent.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sharedipc.agent.attribution.Attribution;
import dev.sharedipc.agent.attribution.NodePod;
import dev.sharedipc.agent.attribution.NodePods;
import dev.sharedipc.agent.attribution.PodDirectory;
import dev.sharedipc.agent.attribution.PodInfo;
import dev.sharedipc.agent.kube.Informer;
import dev.sharedipc.agent.kube.KubeApi;
import dev.sharedipc.agent.prepare.SharedDirPreparer;
import dev.sharedipc.agent.verdict.Policy;
import dev.sharedipc.agent.verdict.PolicyResolver;
import dev.sharedipc.api.Durations;
import dev.sharedipc.api.Labels;
import dev.sharedipc.api.v1alpha1.EffectiveOrphanPolicy;
import dev.sharedipc.api.v1alpha1.OrphanPolicy;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the agent reads from the API server: this node's pods and every SharedIpcGroup, each from an
 * informer, and the orphan policy of a pod's group as the operator publishes it in {@code
 * status.effectiveOrphanPolicy} (the group's spec is never read: only the operator knows whether a
 * SharedIpcPolicy caps it).
 *
 * <p>The informers ({@link Informer}) retry forever (1 s doubling to 32 s): an API server that is
 * away when the agent starts, refuses it, or drops a watch is listed again until it answers. Their
 * caches keep their last contents while the server is away, so the agent keeps scanning and reaping
 * by the last known policies. An informer that has not listed yet makes the agent not ready ({@link
 * #notReady()}); one that has stopped (it never retries again) makes it unhealthy ({@link
 * #unhealthy()}).
 *
 * <p>The caches keep what the agent reads and nothing else: of a pod, a {@link NodePod} (about a
 * tenth of the pod as sent); of a group, the policy the operator published.
 */
public final class ClusterView implements PodDirectory, PolicyResolver, NodePods, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ClusterView.class);

  /**
   * Groups whose last policy is remembered after they leave the cache; plenty for one node, bounded
   * whatever happens.
   */
  static final int LAST_KNOWN_GROUPS = 1024;

  private static final Duration DEFAULT_GRACE = Duration.ofMinutes(10);

  /** This node's pods by UID. */
  private final Informer<NodePod> pods;

  /** Every group by namespace/name: the policy its status publishes (null when none). */
  private final Informer<Optional<EffectiveOrphanPolicy>> groups;

  private final Map<String, Informer<?>> informers;
  private final Map<String, Policy> lastKnown =
      Collections.synchronizedMap(
          new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Policy> eldest) {
              return size() > LAST_KNOWN_GROUPS;
            }
          });

  public ClusterView(KubeApi api, String nodeName) {
    this.pods =
        new Informer<>(
            api,
            "pods",
            "/api/v1/pods",
            "spec.nodeName=" + nodeName,
            Informer::uid,
            ClusterView::nodePod);
    this.groups =
        new Informer<>(
            api,
            "groups",
            GROUPS,
            null,
            Informer::namespacedName,
            g ->
                Optional.ofNullable(
                    effectivePolicy(g.path("status").get("effectiveOrphanPolicy"))));
    this.informers = Map.of("pods", pods, "groups", groups);
    log.debug("informers starting node={}", nodeName);
  }

  private static final String GROUPS = "/apis/" + NodeReporter.API_VERSION + "/sharedipcgroups";

  /**
   * Starts the informers; listeners ({@link #onPod}) added before see every pod of the first list.
   */
  public ClusterView start() {
    informers.values().forEach(Informer::start);
    return this;
  }

  /**
   * The policy a group's status publishes, as the agent reads it: an unknown policy reads as none
   * (then the group's orphans are reported, never removed).
   */
  static EffectiveOrphanPolicy effectivePolicy(JsonNode published) {
    if (published == null || !published.isObject()) {
      return null;
    }
    OrphanPolicy policy;
    try {
      policy = OrphanPolicy.valueOf(published.path("policy").asText());
    } catch (IllegalArgumentException e) {
      policy = null;
    }
    return new EffectiveOrphanPolicy(
        policy, KubeApi.text(published, "gracePeriod"), KubeApi.text(published, "source"));
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
            .filter(e -> e.getValue().stopped())
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
    NodePod p = pods.get(uid);
    if (p == null) {
      return Optional.empty();
    }
    Map<String, String> labels = p.labels();
    Integer instance = null;
    try {
      instance =
          labels.containsKey(Labels.INSTANCE) ? Integer.valueOf(labels.get(Labels.INSTANCE)) : null;
    } catch (NumberFormatException e) {
      // a label we did not write; attribution to the group still holds
    }
    return Optional.of(
        new PodInfo(
            uid, p.namespace(), p.name(), labels.get(Labels.GROUP), instance, p.groupUid()));
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
    Optional<EffectiveOrphanPolicy> g = groups.get(key);
    if (g == null) {
      return Optional.ofNullable(lastKnown.get(key));
    }
    Policy p = published(key, g.orElse(null));
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
    return Optional.of(pods.list());
  }

  @Override
  public Optional<NodePod> nodePod(String uid) {
    return Optional.ofNullable(pods.get(uid));
  }

  /** What the agent reads of a pod, from the pod as the API server sends it. */
  static NodePod nodePod(JsonNode p) {
    JsonNode meta = p.path("metadata");
    return new NodePod(
        KubeApi.text(meta, "namespace"),
        KubeApi.text(meta, "name"),
        strings(meta.get("labels")),
        KubeApi.text(p.path("status"), "phase"),
        controllerUid(meta),
        SharedDirPreparer.hostPathNames(p),
        containers(p));
  }

  /** A JSON object of strings (labels, annotations) as a map; empty when absent. */
  static Map<String, String> strings(JsonNode object) {
    if (object == null || !object.isObject()) {
      return Map.of();
    }
    Map<String, String> map = new java.util.HashMap<>();
    object.fields().forEachRemaining(e -> map.put(e.getKey(), e.getValue().asText()));
    return map;
  }

  /**
   * Every container status of the pod (init containers too): waiting reason, restarts, last
   * termination.
   */
  static List<NodePod.Container> containers(JsonNode p) {
    List<NodePod.Container> all = new java.util.ArrayList<>();
    for (String field : List.of("initContainerStatuses", "containerStatuses")) {
      for (JsonNode c : p.path("status").path(field)) {
        all.add(
            new NodePod.Container(
                KubeApi.text(c, "name"),
                KubeApi.text(c.path("state").path("waiting"), "reason"),
                c.path("restartCount").asInt(0),
                lastTerminated(c)));
      }
    }
    return all;
  }

  private static java.time.Instant lastTerminated(JsonNode c) {
    String finished = KubeApi.text(c.path("lastState").path("terminated"), "finishedAt");
    if (finished == null) {
      return null;
    }
    try {
      return java.time.Instant.parse(finished);
    } catch (java.time.format.DateTimeParseException e) {
      return null;
    }
  }

  /**
   * The uid of the SharedIpcGroup that controls the pod, or null: a pod another controller owns is
   * no group's, whatever its labels say.
   */
  private static String controllerUid(JsonNode meta) {
    for (JsonNode r : meta.path("ownerReferences")) {
      if (r.path("controller").asBoolean(false)
          && "SharedIpcGroup".equals(KubeApi.text(r, "kind"))
          && KubeApi.text(r, "apiVersion") != null
          && KubeApi.text(r, "apiVersion").startsWith("sharedipc.dev/")) {
        return KubeApi.text(r, "uid");
      }
    }
    return null;
  }

  /**
   * Calls {@code listener} with every pod of this node as it is added or changes (the ones already
   * known at once): the hook that makes SameNode shared directories before the kubelet mounts them
   * ({@code prepare.SharedDirPreparer}). A listener that throws is logged; the informer goes on.
   * Add it before {@link #start()}.
   */
  public void onPod(java.util.function.Consumer<JsonNode> listener) {
    pods.listen(
        new Informer.Listener() {
          @Override
          public void changed(JsonNode pod) {
            listener.accept(pod);
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
