package dev.sharedipc.agent.cli;

import dev.sharedipc.agent.attribution.Attribution;
import dev.sharedipc.agent.scan.MemoryVolume;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What {@code scan} shows: which kinds of object ({@code --kind}) and whose ({@code --pod}, {@code
 * --group}). The kinds are validated here and only here, so a new section is one constant.
 */
record ScanFilter(Set<Kind> kinds, String pod, String group) {
  /** The sections of {@code scan}, named as {@code --kind} takes them. */
  enum Kind {
    /** System V shared memory segments. */
    segments,
    /** System V semaphore sets. */
    semaphores,
    /** System V and POSIX message queues. */
    queues,
    /** Memory-backed volumes. */
    volumes,
    /** POSIX shared-memory objects (files in memory volumes). */
    posix
  }

  static final ScanFilter ALL = new ScanFilter(EnumSet.allOf(Kind.class), null, null);

  /**
   * Parses {@code --kind} values (each may be a comma-separated list; none: every kind).
   *
   * @throws IllegalArgumentException naming the unknown kind and the known ones
   */
  static ScanFilter of(List<String> kinds, String pod, String group) {
    Set<Kind> out = EnumSet.noneOf(Kind.class);
    for (String list : kinds == null ? List.<String>of() : kinds) {
      for (String k : list.split(",")) {
        String name = k.trim().toLowerCase(Locale.ROOT);
        try {
          out.add(Kind.valueOf(name));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(
              "unknown --kind '"
                  + k.trim()
                  + "': use one or more of "
                  + Arrays.stream(Kind.values()).map(Enum::name).collect(Collectors.joining(", ")),
              e);
        }
      }
    }
    if (group != null && !group.contains("/")) {
      throw new IllegalArgumentException("--group '" + group + "' must be NAMESPACE/NAME");
    }
    return new ScanFilter(out.isEmpty() ? EnumSet.allOf(Kind.class) : out, pod, group);
  }

  boolean shows(Kind kind) {
    return kinds.contains(kind);
  }

  /**
   * Whether an object with this attribution passes {@code --pod} (NAMESPACE/NAME or UID) and {@code
   * --group}.
   */
  boolean matches(Attribution a) {
    return (pod == null || pod.equals(a.podUid()) || pod.equals(a.podLabel()))
        && (group == null || group.equals(a.groupKey()));
  }

  /** A volume knows its pod by UID only (and, for shared directories, no pod at all). */
  boolean matches(MemoryVolume v) {
    return (pod == null || pod.equals(v.podUid()))
        && (group == null
            || (v.group() != null && group.equals(v.podNamespace() + "/" + v.group())));
  }

  boolean everything() {
    return pod == null && group == null && kinds.equals(EnumSet.allOf(Kind.class));
  }

  @Override
  public String toString() {
    return "kinds="
        + kinds
        + " pod="
        + Objects.toString(pod, "*")
        + " group="
        + Objects.toString(group, "*");
  }
}
