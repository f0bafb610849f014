package dev.sharedipc.agent.attribution;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sharedipc.agent.scan.Segment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The agent's memory of who created host-namespace segments. A segment in the host namespace has
 * no pod namespace to say whose it is; the only proof is its creator, seen alive in a pod's
 * cgroup. This small JSON file records that sighting (segment identity: namespace inode, shmid,
 * key and ctime) so that the segment can still be attributed after its creator is gone. Entries
 * whose segment no longer exists are dropped; writes are atomic (temp file, then rename). A
 * ledger that cannot be read starts empty: unknown host segments are then kept, never removed.
 */
public final class Ledger {
  private static final ObjectMapper JSON = new ObjectMapper()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  /** One recorded sighting. */
  public static final class Entry {
    public long ipcNamespace;
    public int shmid;
    public int key;
    public long ctime;
    public String podUid;
    public String podNamespace;
    public String podName;
    public String group;
    public Integer instance;
    public String recordedAt;

    PodInfo pod() {
      return new PodInfo(podUid, podNamespace, podName, group, instance);
    }
  }

  /** The file's shape. */
  public static final class File {
    public int version = 1;
    public List<Entry> entries = new ArrayList<>();
  }

  private final Path path;
  private final Map<String, Entry> entries = new LinkedHashMap<>();
  private final String loadProblem;
  private boolean dirty;

  private Ledger(Path path, String loadProblem) {
    this.path = path;
    this.loadProblem = loadProblem;
  }

  /** An in-memory ledger (CLI without a writable state directory, and tests). */
  public static Ledger inMemory() {
    return new Ledger(null, null);
  }

  public static Ledger open(Path path) {
    if (path == null || !Files.exists(path)) {
      return new Ledger(path, null);
    }
    try {
      File file = JSON.readValue(path.toFile(), File.class);
      Ledger ledger = new Ledger(path, null);
      for (Entry e : file.entries) {
        ledger.entries.put(id(e.ipcNamespace, e.shmid, e.key, e.ctime), e);
      }
      return ledger;
    } catch (IOException e) {
      return new Ledger(path, "ledger " + path + " is unreadable (" + e.getMessage()
          + "); starting empty, so host-namespace segments recorded there are kept, not removed");
    }
  }

  /** Why the file could not be read, or null. */
  public String loadProblem() {
    return loadProblem;
  }

  public synchronized PodInfo lookup(Segment s) {
    Entry e = entries.get(id(s.ipcNamespace(), s.shmid(), s.key(), s.ctime()));
    return e == null ? null : e.pod();
  }

  public synchronized void record(Segment s, PodInfo pod, Instant now) {
    String id = id(s.ipcNamespace(), s.shmid(), s.key(), s.ctime());
    Entry old = entries.get(id);
    if (old != null && old.podUid.equals(pod.uid()) && (old.group != null || pod.group() == null)
        && (old.podName != null || pod.name() == null)) {
      return;
    }
    Entry e = new Entry();
    e.ipcNamespace = s.ipcNamespace();
    e.shmid = s.shmid();
    e.key = s.key();
    e.ctime = s.ctime();
    e.podUid = pod.uid();
    e.podNamespace = pod.namespace() != null ? pod.namespace() : old != null ? old.podNamespace : null;
    e.podName = pod.name() != null ? pod.name() : old != null ? old.podName : null;
    e.group = pod.group() != null ? pod.group() : old != null ? old.group : null;
    e.instance = pod.instance() != null ? pod.instance() : old != null ? old.instance : null;
    e.recordedAt = now.toString();
    entries.put(id, e);
    dirty = true;
  }

  /** Drops entries of namespace {@code ipcNamespace} whose segments are not among {@code present}. */
  public synchronized void retainOnly(long ipcNamespace, Collection<Segment> present) {
    Set<String> keep = new HashSet<>();
    for (Segment s : present) {
      keep.add(id(s.ipcNamespace(), s.shmid(), s.key(), s.ctime()));
    }
    if (entries.entrySet().removeIf(e -> e.getValue().ipcNamespace == ipcNamespace && !keep.contains(e.getKey()))) {
      dirty = true;
    }
  }

  public synchronized int size() {
    return entries.size();
  }

  /** Writes the file if anything changed. */
  public synchronized void save() throws IOException {
    if (!dirty || path == null) {
      return;
    }
    File file = new File();
    file.entries = new ArrayList<>(entries.values());
    Path dir = path.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, ".ledger", ".tmp");
    try {
      JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), file);
      Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
    dirty = false;
  }

  private static String id(long ns, int shmid, int key, long ctime) {
    return ns + ":" + shmid + ":" + key + ":" + ctime;
  }
}
