package dev.sharedipc.agent.scan;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The instance a SameNode shared directory belongs to, read from its name: the operator's layout
 * under the node shared root, {@code <namespace>_<group>_<group uid>_<index>}, or the form written
 * before the group's uid was part of it, {@code <namespace>_<group>_<index>} ({@code groupUid}
 * null), still recognized so that directories made by earlier versions are attributed and removed
 * as before. Kubernetes names and UIDs never contain '_', so a name parses one way only; anything
 * else (a namespace or group that is not a valid Kubernetes name, a uid that is not a lowercase
 * UUID, an index with a sign or leading zero, extra parts) does not parse, and such a directory is
 * reported unattributed, never guessed at.
 *
 * <p>The uid makes a group deleted and created again under the same name a different owner: its
 * pods never keep the old group's directory alive, nor see its files.
 */
public record SharedDirName(String namespace, String group, String groupUid, int instance) {
  /** Namespace: a DNS-1123 label (at most 63 characters). */
  private static final Pattern LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");

  /** Group: a DNS-1123 subdomain (at most 253 characters), like any object name. */
  private static final Pattern SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

  /** The group's metadata.uid as the API server writes it: a lowercase RFC 4122 UUID. */
  private static final Pattern UID =
      Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

  /**
   * Index: as the operator writes it into the instance label, so "01" or "+1" is not instance 1.
   */
  private static final Pattern INDEX = Pattern.compile("0|[1-9][0-9]{0,8}");

  /** The name form without the group's uid (directories made before it was part of the name). */
  public SharedDirName(String namespace, String group, int instance) {
    this(namespace, group, null, instance);
  }

  public static Optional<SharedDirName> parse(String name) {
    if (name == null) {
      return Optional.empty();
    }
    String[] parts = name.split("_", -1);
    if (parts.length != 3 && parts.length != 4) {
      return Optional.empty();
    }
    String ns = parts[0];
    String group = parts[1];
    String uid = parts.length == 4 ? parts[2] : null;
    String index = parts[parts.length - 1];
    if (ns.length() > 63
        || !LABEL.matcher(ns).matches()
        || group.length() > 253
        || !SUBDOMAIN.matcher(group).matches()
        || (uid != null && !UID.matcher(uid).matches())
        || !INDEX.matcher(index).matches()) {
      return Optional.empty();
    }
    return Optional.of(new SharedDirName(ns, group, uid, Integer.parseInt(index)));
  }

  /** The directory name this instance has: the inverse of {@link #parse}. */
  public String directoryName() {
    return namespace + "_" + group + "_" + (groupUid == null ? "" : groupUid + "_") + instance;
  }

  /** "namespace/group", the key of the group's policy. */
  public String groupKey() {
    return namespace + "/" + group;
  }
}
