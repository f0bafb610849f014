package dev.sharedipc.agent.attribution;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sharedipc.agent.kube.Json;
import dev.sharedipc.agent.scan.Segment;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's memory of who created host-namespace segments. A segment in the host namespace has no
 * pod namespace to say whose it is; the only proof is its creator, seen alive in a pod's cgroup.
 * This small JSON file records that sighting (segment identity: namespace inode, shmid, key and
 * ctime) so that the segment can still be attributed after its creator is gone. Entries whose
 * segment no longer exists are dropped.
 *
 * <p>Durable and shared: a write goes to a temp file that is fsynced, renamed over the ledger, and
 * the directory is fsynced, so a crash leaves the old or the new ledger, never a torn one. Writers
 * (the daemon and a {@code reap} run beside it) take an exclusive lock on {@code <ledger>.lock}
 * and, holding it, re-read the file and apply only their own changes, so neither loses the other's
 * entries. A ledger that cannot be read is renamed aside ({@code <ledger>.unreadable-<time>}, kept
 * for a person to inspect) and the agent starts empty: host segments recorded only there are then
 * unattributed, hence kept, never removed.
 */
public final class Ledger {
  private static final Logger log = LoggerFactory.getLogger(Ledger.class);
  private static final DateTimeFormatter ASIDE_SUFFIX =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'").withZone(ZoneOffset.UTC);

  /**
   * How long a writer waits for another one's lock; a save is milliseconds, so longer means
   * something is stuck.
   */
  private static final long LOCK_WAIT_MILLIS = 10_000;

  /**
   * One monitor per ledger path in this JVM: file locks belong to the process, and a second {@code
   * FileChannel.lock} on the same file in one JVM throws {@code OverlappingFileLockException}
   * instead of waiting.
   */
  private static final Map<Path, Object> IN_JVM = new ConcurrentHashMap<>();

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

    /** UID of the pod's SharedIpcGroup; absent in entries written by agents before it. */
    public String groupUid;

    public String recordedAt;

    PodInfo pod() {
      return new PodInfo(podUid, podNamespace, podName, group, instance, groupUid);
    }
  }

  /** The file's shape. */
  public static final class File {
    public int version = 1;
    public List<Entry> entries = new ArrayList<>();

    /**
     * The file read back; fields it does not know (from a newer agent) are ignored, a field of the
     * wrong type makes it unreadable.
     */
    static File of(JsonNode tree) throws IOException {
      if (!tree.isObject()
          || !(tree.path("entries").isArray() || tree.path("entries").isMissingNode())) {
        throw new IOException("not a ledger: " + tree.getNodeType());
      }
      File file = new File();
      file.version = integer(tree, "version", 1);
      for (JsonNode e : tree.path("entries")) {
        Entry entry = new Entry();
        entry.ipcNamespace = number(e, "ipcNamespace", 0);
        entry.shmid = integer(e, "shmid", 0);
        entry.key = integer(e, "key", 0);
        entry.ctime = number(e, "ctime", 0);
        entry.podUid = text(e, "podUid");
        entry.podNamespace = text(e, "podNamespace");
        entry.podName = text(e, "podName");
        entry.group = text(e, "group");
        entry.instance = e.hasNonNull("instance") ? integer(e, "instance", 0) : null;
        entry.groupUid = text(e, "groupUid");
        entry.recordedAt = text(e, "recordedAt");
        file.entries.add(entry);
      }
      return file;
    }

    private static long number(JsonNode object, String field, long absent) throws IOException {
      JsonNode v = object.get(field);
      if (v == null || v.isNull()) {
        return absent;
      }
      if (!v.canConvertToLong() || !v.isIntegralNumber()) {
        throw new IOException(field + " is not an integer: " + v.getNodeType());
      }
      return v.longValue();
    }

    private static int integer(JsonNode object, String field, int absent) throws IOException {
      long v = number(object, field, absent);
      if (v != (int) v) {
        throw new IOException(field + " is out of the range of an int: " + v);
      }
      return (int) v;
    }

    private static String text(JsonNode object, String field) throws IOException {
      JsonNode v = object.get(field);
      if (v == null || v.isNull()) {
        return null;
      }
      if (!v.isTextual()) {
        throw new IOException(field + " is not a string: " + v.getNodeType());
      }
      return v.textValue();
    }
  }

  private final Path path;
  private final Map<String, Entry> entries = new LinkedHashMap<>();

  /**
   * Ids this instance recorded or dropped since its last save: what it applies over the file's
   * current content.
   */
  private final Set<String> recorded = new HashSet<>();

  private final Set<String> dropped = new HashSet<>();
  private volatile String loadProblem;

  private Ledger(Path path) {
    this.path = path == null ? null : path.toAbsolutePath();
  }

  /** An in-memory ledger (CLI without a writable state directory, and tests). */
  public static Ledger inMemory() {
    return new Ledger(null);
  }

  /**
   * Reads the ledger at {@code path}; a missing file is an empty ledger, an unreadable one is moved
   * aside.
   */
  public static Ledger open(Path path) {
    Ledger ledger = new Ledger(path);
    if (path == null || !Files.exists(path)) {
      return ledger;
    }
    try {
      File file = ledger.read();
      if (file == null) {
        // unreadable: look again under the lock (a writer may have just replaced it), and move it
        // aside if still so
        file = ledger.locked(ledger::readOrMoveAside);
      }
      if (file != null) {
        for (Entry e : file.entries) {
          ledger.entries.put(id(e.ipcNamespace, e.shmid, e.key, e.ctime), e);
        }
      }
    } catch (IOException e) {
      ledger.loadProblem =
          "cannot read, or set aside, the ledger "
              + ledger.path
              + ": "
              + e.getMessage()
              + "; starting empty, so host-namespace segments recorded there are kept, not removed";
      log.warn("ledger unreadable path={} reason=\"{}\"", ledger.path, e.getMessage());
    }
    return ledger;
  }

  /** Why the file could not be read (and where it was moved), or null. */
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
    if (old != null
        && old.podUid.equals(pod.uid())
        && (old.group != null || pod.group() == null)
        && (old.groupUid != null || pod.groupUid() == null)
        && (old.podName != null || pod.name() == null)) {
      return;
    }
    Entry e = new Entry();
    e.ipcNamespace = s.ipcNamespace();
    e.shmid = s.shmid();
    e.key = s.key();
    e.ctime = s.ctime();
    e.podUid = pod.uid();
    e.podNamespace =
        pod.namespace() != null ? pod.namespace() : old != null ? old.podNamespace : null;
    e.podName = pod.name() != null ? pod.name() : old != null ? old.podName : null;
    e.group = pod.group() != null ? pod.group() : old != null ? old.group : null;
    e.instance = pod.instance() != null ? pod.instance() : old != null ? old.instance : null;
    e.groupUid = pod.groupUid() != null ? pod.groupUid() : old != null ? old.groupUid : null;
    e.recordedAt = now.toString();
    entries.put(id, e);
    recorded.add(id);
  }

  /**
   * Drops entries of namespace {@code ipcNamespace} whose segments are not among {@code present}.
   */
  public synchronized void retainOnly(long ipcNamespace, Collection<Segment> present) {
    Set<String> keep = new HashSet<>();
    for (Segment s : present) {
      keep.add(id(s.ipcNamespace(), s.shmid(), s.key(), s.ctime()));
    }
    entries
        .entrySet()
        .removeIf(
            e -> {
              boolean drop =
                  e.getValue().ipcNamespace == ipcNamespace && !keep.contains(e.getKey());
              if (drop) {
                dropped.add(e.getKey());
                recorded.remove(e.getKey());
              }
              return drop;
            });
  }

  public synchronized int size() {
    return entries.size();
  }

  /**
   * Writes this instance's changes, if any, under the lock: the file as it is now (another writer
   * may have saved since this one read it; what this instance holds when the file is unreadable),
   * minus what this one dropped, plus what it recorded. The result is also what this instance holds
   * afterwards.
   */
  public synchronized void save() throws IOException {
    if (path == null || (recorded.isEmpty() && dropped.isEmpty())) {
      return;
    }
    locked(
        () -> {
          Map<String, Entry> merged = new LinkedHashMap<>();
          File current = readOrMoveAside();
          if (current != null) {
            for (Entry e : current.entries) {
              merged.put(id(e.ipcNamespace, e.shmid, e.key, e.ctime), e);
            }
          } else {
            merged.putAll(
                entries); // the file was unreadable (now aside): what this instance holds is the
            // best left
          }
          dropped.forEach(merged::remove);
          for (String id : recorded) {
            Entry mine = entries.get(id);
            if (mine != null) {
              merged.put(id, mine);
            }
          }
          File file = new File();
          file.entries = new ArrayList<>(merged.values());
          writeDurably(Json.pretty(file).getBytes(java.nio.charset.StandardCharsets.UTF_8));
          entries.clear();
          entries.putAll(merged);
          recorded.clear();
          dropped.clear();
          return null;
        });
  }

  /** The file's content, or null when it does not parse; missing is an empty file. */
  private File read() throws IOException {
    if (!Files.exists(path)) {
      return new File();
    }
    byte[] bytes = Files.readAllBytes(path);
    try {
      return File.of(Json.parse(bytes));
    } catch (IOException e) {
      return null;
    }
  }

  /**
   * Under the lock: the file's content, or null after renaming an unreadable file aside (never
   * overwritten, never deleted).
   */
  private File readOrMoveAside() throws IOException {
    File file = read();
    if (file != null) {
      return file;
    }
    Path aside =
        path.resolveSibling(
            path.getFileName() + ".unreadable-" + ASIDE_SUFFIX.format(Instant.now()));
    for (int n = 1; Files.exists(aside); n++) {
      aside =
          path.resolveSibling(
              path.getFileName() + ".unreadable-" + ASIDE_SUFFIX.format(Instant.now()) + "-" + n);
    }
    Files.move(path, aside, StandardCopyOption.ATOMIC_MOVE);
    fsyncDirectory(path.getParent());
    loadProblem =
        "the ledger "
            + path
            + " was unreadable and was moved to "
            + aside
            + " (kept for inspection); starting"
            + " empty, so host-namespace segments recorded there are kept, not removed";
    log.warn("ledger unreadable path={} movedTo={} action=StartedEmpty", path, aside);
    return null;
  }

  /**
   * Temp file written and fsynced, renamed over the ledger, directory fsynced: the old or the new
   * file survives a crash.
   */
  private void writeDurably(byte[] bytes) throws IOException {
    Path dir = path.getParent();
    Path tmp = Files.createTempFile(dir, "." + path.getFileName(), ".tmp");
    try {
      try (FileChannel out =
          FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        while (buf.hasRemaining()) {
          out.write(buf);
        }
        out.force(true);
      }
      Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      fsyncDirectory(dir);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Makes a rename in {@code dir} durable (Linux allows fsync on a directory opened read-only). */
  private static void fsyncDirectory(Path dir) throws IOException {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
  }

  private interface LockedWork<T> {
    T run() throws IOException;
  }

  /**
   * Runs {@code work} holding this JVM's monitor for the path and the exclusive lock on {@code
   * <ledger>.lock}.
   */
  private <T> T locked(LockedWork<T> work) throws IOException {
    Path dir = path.getParent();
    Files.createDirectories(dir);
    Path lockFile = dir.resolve(path.getFileName() + ".lock");
    synchronized (IN_JVM.computeIfAbsent(path, p -> new Object())) {
      try (FileChannel channel =
          FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LOCK_WAIT_MILLIS);
        FileLock lock;
        while ((lock = channel.tryLock()) == null) {
          if (System.nanoTime() > deadline) {
            throw new IOException(
                "the lock "
                    + lockFile
                    + " has been held by another process for "
                    + LOCK_WAIT_MILLIS / 1000
                    + "s (another sharedipc-agent writing the same ledger?); this pass's ledger changes are kept in memory and written next pass");
          }
          try {
            Thread.sleep(20);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the lock " + lockFile, e);
          }
        }
        try {
          return work.run();
        } finally {
          lock.release();
        }
      }
    }
  }

  private static String id(long ns, int shmid, int key, long ctime) {
    return ns + ":" + shmid + ":" + key + ":" + ctime;
  }
}
