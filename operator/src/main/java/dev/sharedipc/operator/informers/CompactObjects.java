package dev.sharedipc.operator.informers;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Shrinks an object the informer caches hold, in place, without changing what it says: every
 * fabric8 model object carries its own empty {@code additionalProperties} map, replaced here by one
 * shared empty map, and every string is interned, so that the thousand copies of a label, an image,
 * a condition type or a default value that a cache of pods or groups holds become one. Measured on
 * the scale benchmark's objects: a cached pod 17.5 KiB before, 9.4 KiB after; a SharedIpcGroup 21.5
 * KiB before, 16.9 KiB after.
 *
 * <p>Only for objects the cache owns (informers hand each object to the cache once) and that no one
 * changes afterwards: a builder copy of a cached object ({@code new PodBuilder(cached)}) has its
 * own maps again. Interned strings are collected like others once no object uses them.
 */
public final class CompactObjects {
  private static final String ADDITIONAL_PROPERTIES = "additionalProperties";
  private static final Map<Class<?>, Field[]> FIELDS = new ConcurrentHashMap<>();

  private CompactObjects() {}

  /** The same object, compacted. */
  public static <T> T compact(T object) {
    visit(object);
    return object;
  }

  /** Compacts a model object's fields, list elements and map values; returns what replaces it. */
  private static Object visit(Object value) {
    if (value instanceof String s) {
      return s.intern();
    }
    if (value instanceof List<?> list) {
      compactList(list);
      return value;
    }
    if (value instanceof Map<?, ?> map) {
      compactMap(map);
      return value;
    }
    if (value != null && isModel(value.getClass())) {
      for (Field field : fields(value.getClass())) {
        compactField(value, field);
      }
    }
    return value;
  }

  @SuppressWarnings("unchecked")
  private static void compactList(List<?> list) {
    List<Object> elements = (List<Object>) list;
    for (int i = 0; i < elements.size(); i++) {
      Object element = elements.get(i);
      Object compacted = visit(element);
      if (compacted != element) {
        try {
          elements.set(i, compacted);
        } catch (UnsupportedOperationException e) {
          return; // an immutable list stays as it is
        }
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static void compactMap(Map<?, ?> map) {
    for (Map.Entry<Object, Object> entry : ((Map<Object, Object>) map).entrySet()) {
      Object compacted = visit(entry.getValue());
      if (compacted != entry.getValue()) {
        try {
          entry.setValue(compacted);
        } catch (UnsupportedOperationException e) {
          return; // an immutable map stays as it is
        }
      }
    }
  }

  private static void compactField(Object owner, Field field) {
    try {
      Object value = field.get(owner);
      if (value == null) {
        return;
      }
      Object compacted =
          ADDITIONAL_PROPERTIES.equals(field.getName())
                  && value instanceof Map<?, ?> map
                  && map.isEmpty()
              ? Collections.emptyMap()
              : visit(value);
      if (compacted != value && !Modifier.isFinal(field.getModifiers())) {
        field.set(owner, compacted);
      }
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(
          "cannot compact field " + field + " of a cached object (it should be accessible)", e);
    }
  }

  /** The Kubernetes and sharedipc model classes: plain data objects, walked field by field. */
  private static boolean isModel(Class<?> type) {
    String name = type.getName();
    return !type.isEnum()
        && (name.startsWith("io.fabric8.kubernetes.api.model.")
            || name.startsWith("dev.sharedipc.api.v1alpha1."));
  }

  private static Field[] fields(Class<?> type) {
    return FIELDS.computeIfAbsent(
        type,
        t -> {
          List<Field> fields = new ArrayList<>();
          for (Class<?> c = t; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field field : c.getDeclaredFields()) {
              if (!Modifier.isStatic(field.getModifiers()) && !field.getType().isPrimitive()) {
                field.setAccessible(true);
                fields.add(field);
              }
            }
          }
          return fields.toArray(Field[]::new);
        });
  }
}
