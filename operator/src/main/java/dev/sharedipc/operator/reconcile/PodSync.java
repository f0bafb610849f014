package dev.sharedipc.operator.reconcile;

import dev.sharedipc.api.Labels;
import dev.sharedipc.operator.status.Pods;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.operator.render.DesiredState;
import dev.sharedipc.operator.samenode.SameNodePlan;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a group's pods match its desired state: creates missing pods, deletes pods of instances
 * beyond {@code replicas}, and replaces pods whose template hash is outdated, one ready instance at
 * a time so that a rollout never takes more than one working instance away. Only pods the group
 * owns (controller ownerReference to its UID) are ever deleted.
 */
public class PodSync {
  private static final Logger LOG = LoggerFactory.getLogger(PodSync.class);

  private final KubernetesClient client;
  private final EventRecorder events;

  public PodSync(KubernetesClient client, EventRecorder events) {
    this.client = client;
    this.events = events;
  }

  /**
   * What stood in the way of one sync step.
   *
   * @param taken desired pod names held by objects the group does not own (left untouched)
   * @param rejected desired pods the API server refused (invalid, forbidden), name to its message
   */
  public record Blockers(List<String> taken, Map<String, String> rejected) {
    public static final Blockers NONE = new Blockers(List.of(), Map.of());

    public boolean isEmpty() {
      return taken.isEmpty() && rejected.isEmpty();
    }
  }

  /** Applies one step towards the desired pods and says what stood in the way. */
  public Blockers sync(SharedIpcGroup group, DesiredState desired, List<Pod> owned) {
    String ns = group.getMetadata().getNamespace();
    Map<String, Pod> ownedByName = owned.stream().collect(Collectors.toMap(p -> p.getMetadata().getName(), Function.identity()));
    Set<String> desiredNames = desired.pods().stream().map(p -> p.getMetadata().getName()).collect(Collectors.toSet());
    List<String> taken = new ArrayList<>();
    Map<String, String> rejected = new java.util.TreeMap<>();

    for (Pod pod : owned) {
      if (!desiredNames.contains(pod.getMetadata().getName()) && !Pods.isTerminating(pod)) {
        delete(group, pod, "ScaledDown", "deleted pod " + pod.getMetadata().getName() + ": instance beyond replicas "
            + group.getSpec().getReplicas());
      }
    }
    for (Pod pod : desired.pods()) {
      String name = pod.getMetadata().getName();
      if (!ownedByName.containsKey(name)) {
        create(group, pod, taken, rejected);
      }
    }
    rollOut(group, desired, owned.stream().filter(p -> desiredNames.contains(p.getMetadata().getName())).toList());
    if (!taken.isEmpty()) {
      LOG.warn("group={}/{} pods={} exist but are not owned by the group; left untouched", ns, group.getMetadata().getName(), taken);
    }
    return new Blockers(taken, rejected);
  }

  /** One step of a rollout; {@code owned} holds only pods of instances that should exist. */
  private void rollOut(SharedIpcGroup group, DesiredState desired, List<Pod> owned) {
    List<Pod> current = owned.stream().filter(p -> !Pods.isTerminating(p)).toList();
    List<Pod> outdated = current.stream().filter(desired::isOutdated).toList();
    if (outdated.isEmpty()) {
      return;
    }
    // Pods that do not work anyway go at once; a working one only when every other instance works.
    for (Pod pod : outdated) {
      if (!Pods.isReady(pod)) {
        delete(group, pod, "Replacing", "replacing pod " + pod.getMetadata().getName() + " (not ready) with the new spec");
      }
    }
    boolean allOthersReady = owned.size() >= desired.pods().size()
        && owned.stream().allMatch(p -> !Pods.isTerminating(p) && Pods.isReady(p));
    if (allOthersReady) {
      Pod next = outdated.stream().filter(Pods::isReady).findFirst().orElse(null);
      if (next != null) {
        delete(group, next, "Replacing", "rolling out the new spec: replacing pod "
            + next.getMetadata().getName() + "; the other pods stay up");
      }
    }
  }

  private void create(SharedIpcGroup group, Pod pod, List<String> taken, Map<String, String> rejected) {
    String ns = group.getMetadata().getNamespace();
    String name = pod.getMetadata().getName();
    try {
      client.pods().inNamespace(ns).resource(pod).create();
      events.normal(group, "PodCreated", "created pod " + name + " (instance " + pod.getMetadata().getLabels().get(Labels.INSTANCE)
          + ", spec " + Pods.templateHash(pod) + ")");
    } catch (KubernetesClientException e) {
      if (e.getCode() == 422 || e.getCode() == HttpURLConnection.HTTP_FORBIDDEN) {
        // Invalid or forbidden (e.g. by PodSecurity admission): retrying cannot help until something changes.
        String why = e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage() : e.getMessage();
        LOG.warn("group={}/{} pod={} verdict=rejected code={} message=\"{}\"", group.getMetadata().getNamespace(),
            group.getMetadata().getName(), name, e.getCode(), why);
        rejected.put(name, why);
        return;
      }
      if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
        throw e;
      }
      Pod existing = client.pods().inNamespace(ns).withName(name).get();
      if (existing == null || isOwnedBy(existing, group)) {
        LOG.debug("pod {}/{} already exists and is ours (cache behind); nothing to do", ns, name);
      } else {
        taken.add(name);
      }
    }
  }

  /**
   * Deletes the pods a SameNode plan evicts (whole instances, all owned by the group), with one log
   * line and one Event per instance, and returns them.
   */
  public List<Pod> evict(SharedIpcGroup group, List<SameNodePlan.Eviction> evictions) {
    Map<String, List<SameNodePlan.Eviction>> byReason = evictions.stream().collect(
        Collectors.groupingBy(e -> e.reason() + ": " + e.message(), java.util.LinkedHashMap::new, Collectors.toList()));
    List<Pod> evicted = new ArrayList<>();
    byReason.values().forEach(same -> {
      List<Pod> pods = same.stream().map(SameNodePlan.Eviction::pod).toList();
      LOG.info("group={}/{} decision=evict pods={} reason={} message=\"{}\"", group.getMetadata().getNamespace(),
          group.getMetadata().getName(), pods.stream().map(p -> p.getMetadata().getName()).toList(), same.get(0).reason(),
          same.get(0).message());
      for (Pod pod : pods) {
        if (!isOwnedBy(pod, group)) {
          throw new IllegalStateException("refusing to delete pod " + pod.getMetadata().getName() + ": not owned by group "
              + group.getMetadata().getName());
        }
        // A pod whose node is gone, or that never ran, has no kubelet that will confirm a graceful
        // delete; it would block its successor's name for minutes. Remove it at once, as the pod
        // garbage collector eventually would.
        boolean force = "NodeLost".equals(same.get(0).reason())
            || pod.getStatus() == null || !"Running".equals(pod.getStatus().getPhase());
        var resource = client.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName());
        if (force) {
          resource.withGracePeriod(0).delete();
        } else {
          resource.delete();
        }
      }
      events.warning(group, same.get(0).reason(), same.get(0).message());
      evicted.addAll(pods);
    });
    return evicted;
  }

  private void delete(SharedIpcGroup group, Pod pod, String reason, String message) {
    if (!isOwnedBy(pod, group)) {
      throw new IllegalStateException("refusing to delete pod " + pod.getMetadata().getName() + ": not owned by group "
          + group.getMetadata().getName());
    }
    client.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName()).delete();
    events.normal(group, reason, message);
  }

  public static boolean isOwnedBy(Pod pod, SharedIpcGroup group) {
    return pod.getMetadata().getOwnerReferences() != null
        && pod.getMetadata().getOwnerReferences().stream()
            .anyMatch(o -> Boolean.TRUE.equals(o.getController()) && Objects.equals(o.getUid(), group.getMetadata().getUid()));
  }


}
