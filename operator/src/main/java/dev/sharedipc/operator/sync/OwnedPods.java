package dev.sharedipc.operator.sync;

import dev.sharedipc.api.Labels;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.operator.pods.Pods;
import io.fabric8.kubernetes.api.model.DeleteOptions;
import io.fabric8.kubernetes.api.model.DeleteOptionsBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.policy.v1.Eviction;
import io.fabric8.kubernetes.api.model.policy.v1.EvictionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The only writer of a group's pods, for every placement: creates desired pods, and deletes or
 * evicts pods the group controls, each delete carrying a UID precondition so that it can only ever
 * remove the very pod that was judged, never a successor that took its name meanwhile.
 */
public final class OwnedPods {
  private static final Logger LOG = LoggerFactory.getLogger(OwnedPods.class);
  private static final int TOO_MANY_REQUESTS = 429;

  private final KubernetesClient client;

  public OwnedPods(KubernetesClient client) {
    this.client = client;
  }

  public static boolean isOwnedBy(Pod pod, SharedIpcGroup group) {
    return pod.getMetadata().getOwnerReferences() != null
        && pod.getMetadata().getOwnerReferences().stream()
            .anyMatch(
                o ->
                    Boolean.TRUE.equals(o.getController())
                        && Objects.equals(o.getUid(), group.getMetadata().getUid()));
  }

  /**
   * Creates the desired pods that are missing, recording those someone else holds or the API server
   * refuses.
   */
  public Blockers createMissing(
      SharedIpcGroup group, List<Pod> desired, Map<String, Pod> ownedByName, GroupEvents events) {
    List<String> taken = new ArrayList<>();
    Map<String, String> rejected = new TreeMap<>();
    for (Pod pod : desired) {
      if (!ownedByName.containsKey(pod.getMetadata().getName())) {
        create(group, pod, taken, rejected, events);
      }
    }
    if (!taken.isEmpty()) {
      LOG.warn(
          "group={}/{} pods={} exist but are not owned by the group; left untouched",
          group.getMetadata().getNamespace(),
          group.getMetadata().getName(),
          taken);
    }
    return new Blockers(taken, rejected);
  }

  private void create(
      SharedIpcGroup group,
      Pod pod,
      List<String> taken,
      Map<String, String> rejected,
      GroupEvents events) {
    String ns = group.getMetadata().getNamespace();
    String name = pod.getMetadata().getName();
    try {
      client.pods().inNamespace(ns).resource(pod).create();
      String member = pod.getMetadata().getLabels().get(Labels.MEMBER);
      events.normal(
          group,
          "PodCreated",
          "created pod "
              + name
              + " (instance "
              + pod.getMetadata().getLabels().get(Labels.INSTANCE)
              + (member == null ? "" : ", member " + member)
              + ", spec "
              + Pods.templateHash(pod)
              + ")");
    } catch (KubernetesClientException e) {
      if (e.getCode() == 422 || e.getCode() == HttpURLConnection.HTTP_FORBIDDEN) {
        // Invalid or forbidden (e.g. by PodSecurity admission): retrying cannot help until
        // something changes.
        String why =
            e.getStatus() != null && e.getStatus().getMessage() != null
                ? e.getStatus().getMessage()
                : e.getMessage();
        LOG.warn(
            "group={}/{} pod={} verdict=rejected code={} message=\"{}\"",
            ns,
            group.getMetadata().getName(),
            name,
            e.getCode(),
            why);
        rejected.put(name, why);
        return;
      }
      if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
        throw e;
      }
      Pod existing = client.pods().inNamespace(ns).withName(name).get();
      if (existing == null || isOwnedBy(existing, group)) {
        // The cache is behind, or the pod we replace still terminates: the next event brings us
        // back.
        LOG.debug(
            "pod {}/{} exists and is ours (cache behind or still terminating); nothing to do",
            ns,
            name);
      } else {
        taken.add(name);
      }
    }
  }

  /**
   * Deletes a pod the group controls, only if it is still the same pod (UID precondition).
   *
   * @param gracePeriodSeconds null for the pod's own grace period
   * @return false when the pod was already gone or replaced
   */
  public boolean delete(SharedIpcGroup group, Pod pod, Long gracePeriodSeconds) {
    requireOwned(group, pod);
    DeleteOptions options =
        new DeleteOptionsBuilder()
            .withApiVersion("v1")
            .withKind("DeleteOptions")
            .withGracePeriodSeconds(gracePeriodSeconds)
            .withNewPreconditions()
            .withUid(pod.getMetadata().getUid())
            .endPreconditions()
            .build();
    // fabric8's delete DSL sets only resourceVersion preconditions, which fail on every status
    // change a kubelet makes; the UID is what identifies "the pod we judged".
    String path =
        "/api/v1/namespaces/"
            + pod.getMetadata().getNamespace()
            + "/pods/"
            + pod.getMetadata().getName();
    try {
      client.raw(path, "DELETE", options);
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_NOT_FOUND
          || e.getCode() == HttpURLConnection.HTTP_CONFLICT) {
        LOG.debug(
            "pod {}/{} uid={} already gone or replaced: {}",
            pod.getMetadata().getNamespace(),
            pod.getMetadata().getName(),
            pod.getMetadata().getUid(),
            e.getMessage());
        return false;
      }
      throw e;
    }
  }

  /**
   * Evicts a pod the group controls through the Eviction API, so that PodDisruptionBudgets the user
   * set on the group's pods are honoured, only if it is still the same pod (UID precondition).
   *
   * @return false when a disruption budget refuses it now (try again later) or the pod is gone
   */
  public boolean evict(SharedIpcGroup group, Pod pod) {
    requireOwned(group, pod);
    Eviction eviction =
        new EvictionBuilder()
            .withNewMetadata()
            .withName(pod.getMetadata().getName())
            .withNamespace(pod.getMetadata().getNamespace())
            .endMetadata()
            .withDeleteOptions(
                new DeleteOptionsBuilder()
                    .withNewPreconditions()
                    .withUid(pod.getMetadata().getUid())
                    .endPreconditions()
                    .build())
            .build();
    try {
      return client
          .pods()
          .inNamespace(pod.getMetadata().getNamespace())
          .withName(pod.getMetadata().getName())
          .evict(eviction);
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_NOT_FOUND
          || e.getCode() == HttpURLConnection.HTTP_CONFLICT
          || e.getCode() == TOO_MANY_REQUESTS) {
        LOG.info(
            "pod {}/{} not evicted now: {}",
            pod.getMetadata().getNamespace(),
            pod.getMetadata().getName(),
            e.getMessage());
        return false;
      }
      throw e;
    }
  }

  private static void requireOwned(SharedIpcGroup group, Pod pod) {
    if (!isOwnedBy(pod, group)) {
      throw new IllegalStateException(
          "refusing to delete pod "
              + pod.getMetadata().getNamespace()
              + "/"
              + pod.getMetadata().getName()
              + ": it is not controlled by group "
              + group.getMetadata().getName()
              + "; the operator only deletes pods it owns");
    }
  }
}
