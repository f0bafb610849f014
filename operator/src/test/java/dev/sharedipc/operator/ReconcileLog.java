package dev.sharedipc.operator;

import dev.sharedipc.operator.reconcile.GroupReconciles;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
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
}
