package dev.sharedipc.agent.scan;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The instance a SameNode shared directory belongs to, read from its name
 * {@code <namespace>_<group>_<index>} (the operator's layout under the node shared root). Kubernetes
 * names never contain '_', so a name with exactly two of them parses one way only; anything else
 * (a namespace or group that is not a valid Kubernetes name, an index with a sign or leading zero,
 * extra parts) does not parse, and such a directory is reported unattributed, never guessed at.
 */
public record SharedDirName(String namespace, String group, int instance) {
  /** Namespace: a DNS-1123 label (at most 63 characters). */
  private static final Pattern LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  /** Group: a DNS-1123 subdomain (at most 253 characters), like any object name. */
  private static final Pattern SUBDOMAIN = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  /** Index: as the operator writes it into the instance label, so "01" or "+1" is not instance 1. */
  private static final Pattern INDEX = Pattern.compile("0|[1-9][0-9]{0,8}");

  public static Optional<SharedDirName> parse(String name) {
    if (name == null) {
      return Optional.empty();
    }
    String[] parts = name.split("_", -1);
    if (parts.length != 3) {
      return Optional.empty();
    }
    String ns = parts[0];
    String group = parts[1];
    String index = parts[2];
    if (ns.length() > 63 || !LABEL.matcher(ns).matches() || group.length() > 253 || !SUBDOMAIN.matcher(group).matches()
        || !INDEX.matcher(index).matches()) {
      return Optional.empty();
    }
    return Optional.of(new SharedDirName(ns, group, Integer.parseInt(index)));
  }

  /** The directory name this instance has: the inverse of {@link #parse}. */
  public String directoryName() {
    return namespace + "_" + group + "_" + instance;
  }

  /** "namespace/group", the key of the group's policy. */
  public String groupKey() {
    return namespace + "/" + group;
  }
}
