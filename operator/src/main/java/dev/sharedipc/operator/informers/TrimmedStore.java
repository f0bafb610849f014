package dev.sharedipc.operator.informers;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.ItemStore;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * An informer cache that keeps each object without the fields the operator never reads: every
 * object's {@code metadata.managedFields} (the server-side apply bookkeeping, often larger than the
 * rest of a pod), and a Node's image list. At 1,000 groups these are most of the operator's live
 * heap; nothing the operator writes is built from a cached object's managedFields. What it keeps is
 * compacted ({@link CompactObjects}: shared empty maps, interned strings).
 */
public final class TrimmedStore<T extends HasMetadata> implements ItemStore<T> {
  private final BasicItemStore<T> store = new BasicItemStore<>(Cache::metaNamespaceKeyFunc);
  private final UnaryOperator<T> trim;

  private TrimmedStore(UnaryOperator<T> trim) {
    this.trim = trim;
  }

  /** A cache of objects without their managedFields. */
  public static <T extends HasMetadata> TrimmedStore<T> withoutManagedFields() {
    return new TrimmedStore<>(TrimmedStore::dropManagedFields);
  }

  /**
   * A cache of custom resources without managedFields and status, for a reader of their spec alone.
   */
  public static <T extends CustomResource<?, ?>> TrimmedStore<T> specOnly() {
    return new TrimmedStore<>(
        object -> {
          dropManagedFields(object);
          object.setStatus(null);
          return object;
        });
  }

  /**
   * A cache of Nodes without managedFields and without their image lists (placement reads neither).
   */
  public static TrimmedStore<Node> nodes() {
    return new TrimmedStore<>(
        node -> {
          dropManagedFields(node);
          if (node.getStatus() != null) {
            node.getStatus().setImages(null);
          }
          return node;
        });
  }

  /**
   * The object as cached: the same object, its unread fields cleared (informers hand each object to
   * the cache once).
   */
  static <T extends HasMetadata> T dropManagedFields(T object) {
    if (object.getMetadata() != null) {
      object.getMetadata().setManagedFields(null);
    }
    return object;
  }

  @Override
  public String getKey(T object) {
    return store.getKey(object);
  }

  @Override
  public T put(String key, T object) {
    return store.put(key, CompactObjects.compact(trim.apply(object)));
  }

  @Override
  public T remove(String key) {
    return store.remove(key);
  }

  @Override
  public Stream<String> keySet() {
    return store.keySet();
  }

  @Override
  public Stream<T> values() {
    return store.values();
  }

  @Override
  public int size() {
    return store.size();
  }

  @Override
  public T get(String key) {
    return store.get(key);
  }
}
