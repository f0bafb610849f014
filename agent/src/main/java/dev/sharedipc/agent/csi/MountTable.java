package dev.sharedipc.agent.csi;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The mounts of this mount namespace, read from {@code /proc/self/mountinfo}: per mount point the
 * mount on top there (the last line naming it), with the fields that say which filesystem it shows:
 * the device of its superblock (field 3, {@code major:minor}; every tmpfs has its own), the
 * directory of that filesystem at its root (field 4; {@code /} for a tmpfs and for a bind of its
 * root), its per-mount read-only flag (field 6), and the type and source after the separator. The
 * kernel's octal escapes of space, tab, newline and backslash are undone. Pure: parses text.
 */
public final class MountTable {
  private MountTable() {}

  /** One mount: what {@link InstanceVolumes} compares to tell one tmpfs from another. */
  public record Mount(
      String point, String device, String root, boolean readOnly, String fsType, String source) {
    /** Whether both show the same directory of the same superblock (a bind of one another). */
    public boolean sameFilesystem(Mount other) {
      return device.equals(other.device) && root.equals(other.root);
    }

    /** {@code device} and, below its root, {@code root}, for messages. */
    public String describe() {
      return fsType + " " + source + " device " + device + ("/".equals(root) ? "" : " at " + root);
    }
  }

  public static Map<String, Mount> mounts(String mountinfo) {
    Map<String, Mount> mounts = new LinkedHashMap<>();
    for (String line : mountinfo.split("\n")) {
      String[] fields = line.split(" ");
      int separator = java.util.Arrays.asList(fields).indexOf("-");
      if (fields.length > 5 && separator > 5 && fields.length > separator + 2) {
        String point = unescape(fields[4]);
        mounts.remove(point); // a later mount at the same point is on top: keep map order by it
        mounts.put(
            point,
            new Mount(
                point,
                fields[2],
                unescape(fields[3]),
                Set.of(fields[5].split(",")).contains("ro"),
                fields[separator + 1],
                unescape(fields[separator + 2])));
      }
    }
    return mounts;
  }

  public static Set<String> mountPoints(String mountinfo) {
    return mounts(mountinfo).keySet();
  }

  static String unescape(String field) {
    StringBuilder out = new StringBuilder(field.length());
    for (int i = 0; i < field.length(); i++) {
      char c = field.charAt(i);
      if (c == '\\' && isOctal(field, i + 1)) {
        out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  private static boolean isOctal(String s, int from) {
    if (from + 3 > s.length()) {
      return false;
    }
    for (int i = from; i < from + 3; i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '7') {
        return false;
      }
    }
    return true;
  }
}
