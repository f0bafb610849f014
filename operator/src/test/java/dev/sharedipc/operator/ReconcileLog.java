package dev.sharedipc.operator;

import static org.awaitility.Awaitility.await;

import dev.sharedipc.operator.reconcile.GroupReconciles;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What the running operator's group reconciles read, per group: how many times each ran and how
 * many reports each read.
 */
public final class ReconcileLog implements GroupReconciles {
  private final Map<ResourceID, List<Integer>> reportsRead = new ConcurrentHashMap<>();

  @Override
  public void reconciled(ResourceID group, int reports) {
    reportsRead.computeIfAbsent(group, g -> new CopyOnWriteArrayList<>()).add(reports);
  }

  /** The reports read by each reconcile of the group so far, oldest first. */
  public List<Integer> of(String namespace, String name) {
    return List.copyOf(reportsRead.getOrDefault(new ResourceID(name, namespace), List.of()));
  }

  /** How many reconciles these groups of one namespace have had so far, together. */
  public int count(String namespace, List<String> names) {
    return names.stream().mapToInt(name -> of(namespace, name).size()).sum();
  }

  /**
   * Waits until these groups have gone quiet (no reconcile in half a second; a new group is
   * reconciled more than once, its own status write coming back as an event) and returns their
   * reconcile count then.
   */
  public int awaitQuiet(String namespace, List<String> names, Duration atMost) {
    int[] seen = {-1};
    await()
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(500))
        .until(
            () -> {
              int now = count(namespace, names);
              boolean quiet = now == seen[0];
              seen[0] = now;
              return quiet;
            });
    return seen[0];
  }
}
