package dev.sharedipc.agent.cli;

import dev.sharedipc.agent.attribution.Attribution;
import dev.sharedipc.agent.kube.Json;
import dev.sharedipc.agent.reap.Decision;
import dev.sharedipc.agent.reap.PosixObjectReaper;
import dev.sharedipc.agent.reap.SharedDirDecision;
import dev.sharedipc.agent.scan.MemoryVolume;
import dev.sharedipc.agent.scan.MessageQueue;
import dev.sharedipc.agent.scan.PosixQueue;
import dev.sharedipc.agent.scan.Segment;
import dev.sharedipc.agent.scan.SemaphoreSet;
import dev.sharedipc.agent.scan.SharedDirName;
import dev.sharedipc.agent.survey.Attributed;
import dev.sharedipc.agent.survey.Finding;
import dev.sharedipc.agent.survey.Findings;
import dev.sharedipc.agent.survey.NamespaceFinding;
import dev.sharedipc.agent.survey.PosixObjectFinding;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns findings and decisions into what the CLI prints: lsipc-like tables (human sizes) or JSON
 * with the same fields (sizes in bytes, times in RFC 3339, unknowns as null). Pure: strings in,
 * strings out, so rendering is tested without a kernel.
 */
public final class Render {

  private Render() {}

  /** Segments sorted by namespace then shmid, so that output is stable. */
  static List<Finding> sorted(List<Finding> findings) {
    List<Finding> out = new ArrayList<>(findings);
    out.sort(
        Comparator.comparingLong((Finding f) -> f.segment().ipcNamespace())
            .thenComparingInt(f -> f.segment().shmid()));
    return out;
  }

  public static String scanTable(Findings findings) {
    return scanTable(findings, ScanFilter.ALL);
  }

  /** Like {@code ipcs -a}: one titled section per kind the filter shows, each an aligned table. */
  static String scanTable(Findings findings, ScanFilter filter) {
    StringBuilder b = new StringBuilder();
    if (filter.shows(ScanFilter.Kind.segments)) {
      section(
          b,
          "Shared memory segments",
          segmentTable(
              sorted(findings.segments()).stream()
                  .filter(f -> filter.matches(f.attribution()))
                  .toList()));
    }
    if (filter.shows(ScanFilter.Kind.semaphores)) {
      section(b, "Semaphore sets", SEMAPHORES.table(semaphores(findings, filter)));
    }
    if (filter.shows(ScanFilter.Kind.queues)) {
      section(b, "Message queues", MESSAGE_QUEUES.table(messageQueues(findings, filter)));
      List<UnknownQueues> unknown = posixQueuesUnknown(findings, filter);
      section(
          b,
          "POSIX message queues",
          POSIX_QUEUES.table(posixQueues(findings, filter))
              + (unknown.isEmpty() ? "" : "\n" + POSIX_QUEUES_UNKNOWN.table(unknown)));
    }
    if (filter.shows(ScanFilter.Kind.volumes)) {
      section(
          b,
          "Memory volumes",
          volumeTable(findings.volumes().stream().filter(filter::matches).toList()));
    }
    if (filter.shows(ScanFilter.Kind.posix)) {
      section(
          b, "POSIX shared-memory objects", posixTable(posixObjects(findings, filter), List.of()));
    }
    return b.toString();
  }

  /** The POSIX objects of the volumes the filter shows. */
  private static List<PosixObjectFinding> posixObjects(Findings findings, ScanFilter filter) {
    return findings.posix().objects().stream()
        .filter(o -> filter.matches(o.object().volume()))
        .toList();
  }

  private static void section(StringBuilder b, String title, String table) {
    if (b.length() > 0) {
      b.append('\n');
    }
    b.append("------ ").append(title).append(" ------\n").append(table);
  }

  private static String segmentTable(List<Finding> segments) {
    Table t =
        new Table(
            "IPCNS", "KEY", ">SHMID", "PERMS", ">OWNER", ">SIZE", ">RSS", ">NATTCH", ">CPID",
            ">LPID", "POD", "GROUP", "VERDICT", "REASON");
    for (Finding f : segments) {
      Segment s = f.segment();
      t.row(
          s.ipcNamespace(),
          s.keyHex(),
          s.shmid(),
          s.permsOctal(),
          s.uid(),
          Sizes.human(s.bytes()),
          Sizes.human(s.rssBytes()),
          s.nattch(),
          s.cpid(),
          s.lpid(),
          f.attribution().podLabel(),
          f.attribution().groupKey(),
          f.judgement().verdict(),
          f.judgement().reason());
    }
    return t.render();
  }

  // --- inventoried only: semaphore sets, message queues, POSIX message queues (never judged, never
  // removed) ---

  static final View<Attributed<SemaphoreSet>> SEMAPHORES =
      withOwner(
              new View<Attributed<SemaphoreSet>>()
                  .col("IPCNS", "ipcNamespace", x -> x.object().ipcNamespace())
                  .col("KEY", "key", x -> x.object().keyHex())
                  .col(">SEMID", "semid", x -> x.object().semid())
                  .col("PERMS", "perms", x -> x.object().permsOctal())
                  .col(">OWNER", "uid", x -> x.object().uid())
                  .json("gid", x -> x.object().gid())
                  .json("cuid", x -> x.object().cuid())
                  .json("cgid", x -> x.object().cgid())
                  .col(">NSEMS", "nsems", x -> x.object().nsems())
                  .col(
                      "LAST-OP",
                      "otime",
                      x -> shortTime(x.object().otime()),
                      x -> time(x.object().otime()))
                  .col(
                      "CHANGED",
                      "ctime",
                      x -> shortTime(x.object().ctime()),
                      x -> time(x.object().ctime())))
          .json("attribution", x -> x.attribution().source().name());

  static final View<Attributed<MessageQueue>> MESSAGE_QUEUES =
      withOwner(
              new View<Attributed<MessageQueue>>()
                  .col("IPCNS", "ipcNamespace", x -> x.object().ipcNamespace())
                  .col("KEY", "key", x -> x.object().keyHex())
                  .col(">MSQID", "msqid", x -> x.object().msqid())
                  .col("PERMS", "perms", x -> x.object().permsOctal())
                  .col(">OWNER", "uid", x -> x.object().uid())
                  .json("gid", x -> x.object().gid())
                  .json("cuid", x -> x.object().cuid())
                  .json("cgid", x -> x.object().cgid())
                  .col(
                      ">USED",
                      "queuedBytes",
                      x -> Sizes.human(x.object().queuedBytes()),
                      x -> x.object().queuedBytes())
                  .col(">MSGS", "messages", x -> x.object().messages())
                  .col(">LSPID", "lastSendPid", x -> x.object().lastSendPid())
                  .col(">LRPID", "lastReceivePid", x -> x.object().lastReceivePid())
                  .json("stime", x -> time(x.object().stime()))
                  .json("rtime", x -> time(x.object().rtime()))
                  .col(
                      "CHANGED",
                      "ctime",
                      x -> shortTime(x.object().ctime()),
                      x -> time(x.object().ctime())))
          .json("attribution", x -> x.attribution().source().name());

  static final View<Attributed<PosixQueue>> POSIX_QUEUES =
      withOwner(
              new View<Attributed<PosixQueue>>()
                  .col("IPCNS", "ipcNamespace", x -> x.object().ipcNamespace())
                  .col("NAME", "name", x -> x.object().name())
                  .col("PERMS", "perms", x -> x.object().permsOctal())
                  .col(">OWNER", "uid", x -> x.object().uid())
                  .json("gid", x -> x.object().gid())
                  .col(
                      ">QUEUED",
                      "queuedBytes",
                      x -> Sizes.human(x.object().queuedBytes()),
                      x -> x.object().queuedBytes() < 0 ? null : x.object().queuedBytes())
                  .col(
                      "CHANGED",
                      "mtime",
                      x -> shortTime(x.object().mtime()),
                      x -> time(x.object().mtime()))
                  .json("ctime", x -> time(x.object().ctime())))
          .json("path", x -> x.object().path());

  /**
   * The columns that say whose an inventoried object is: its pod and group (text and JSON),
   * instance and pod UID (JSON).
   */
  private static <T> View<Attributed<T>> withOwner(View<Attributed<T>> view) {
    return view.col("POD", "pod", x -> x.attribution().podLabel(), x -> podOf(x.attribution()))
        .col("GROUP", "group", x -> x.attribution().groupKey())
        .json(
            "instance",
            x -> x.attribution().pod() == null ? null : x.attribution().pod().instance())
        .json("podUid", x -> x.attribution().podUid());
  }

  /** Namespaces whose POSIX queues could not be listed: unknown, which is not none. */
  record UnknownQueues(long ipcNamespace, Attribution attribution, String reason) {}

  static final View<UnknownQueues> POSIX_QUEUES_UNKNOWN =
      new View<UnknownQueues>()
          .col("IPCNS", "ipcNamespace", UnknownQueues::ipcNamespace)
          .col("POD", "pod", x -> x.attribution().podLabel(), x -> podOf(x.attribution()))
          .json("podUid", x -> x.attribution().podUid())
          .col("POSIX QUEUES UNKNOWN", "reason", UnknownQueues::reason);

  private static List<Attributed<SemaphoreSet>> semaphores(Findings f, ScanFilter filter) {
    return f.ipcObjects().semaphoreSets().stream()
        .filter(x -> filter.matches(x.attribution()))
        .sorted(
            Comparator.comparingLong((Attributed<SemaphoreSet> x) -> x.object().ipcNamespace())
                .thenComparingInt(x -> x.object().semid()))
        .toList();
  }

  private static List<Attributed<MessageQueue>> messageQueues(Findings f, ScanFilter filter) {
    return f.ipcObjects().messageQueues().stream()
        .filter(x -> filter.matches(x.attribution()))
        .sorted(
            Comparator.comparingLong((Attributed<MessageQueue> x) -> x.object().ipcNamespace())
                .thenComparingInt(x -> x.object().msqid()))
        .toList();
  }

  private static List<Attributed<PosixQueue>> posixQueues(Findings f, ScanFilter filter) {
    return f.ipcObjects().posixQueues().stream()
        .filter(x -> filter.matches(x.attribution()))
        .sorted(
            Comparator.comparingLong((Attributed<PosixQueue> x) -> x.object().ipcNamespace())
                .thenComparing(x -> x.object().name()))
        .toList();
  }

  /** Each namespace (of the filtered pods) whose POSIX queues are unknown, with its attribution. */
  private static List<UnknownQueues> posixQueuesUnknown(Findings f, ScanFilter filter) {
    Map<Long, String> unreadable = f.ipcObjects().posixQueuesUnreadable();
    return f.namespaces().stream()
        .filter(n -> unreadable.containsKey(n.namespace().inode()))
        .filter(n -> filter.matches(n.attribution()))
        .map(
            n ->
                new UnknownQueues(
                    n.namespace().inode(), n.attribution(), unreadable.get(n.namespace().inode())))
        .toList();
  }

  private static Map<String, Object> podOf(Attribution a) {
    if (a.podUid() == null && a.pod() == null) {
      return null;
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("uid", a.podUid());
    m.put("namespace", a.pod() == null ? null : a.pod().namespace());
    m.put("name", a.pod() == null ? null : a.pod().name());
    return m;
  }

  private static String shortTime(long epochSecond) {
    return epochSecond <= 0
        ? "-"
        : Instant.ofEpochSecond(epochSecond).toString().replace("T", " ").replace("Z", "");
  }

  public static String volumeTable(List<MemoryVolume> volumes) {
    Table t = new Table("KIND", ">SIZE", ">USED", ">USE%", "POD", "GROUP", ">INSTANCE", "PATH");
    for (MemoryVolume v : volumes) {
      t.row(
          v.kind(),
          Sizes.human(v.sizeBytes()),
          Sizes.human(v.usedBytes()),
          v.sizeBytes() > 0 ? (v.usedBytes() * 100 / v.sizeBytes()) + "%" : "-",
          v.podUid(),
          v.group() == null ? null : v.podNamespace() + "/" + v.group(),
          v.instance(),
          v.path());
    }
    return t.render();
  }

  /** One row per entry of the shared root: its instance, verdict, action and why. */
  public static String sharedDirTable(List<SharedDirDecision> decisions) {
    Table t = new Table("SHARED DIRECTORY", "GROUP", ">INSTANCE", "VERDICT", "ACTION", "REASON");
    for (SharedDirDecision d : decisions) {
      t.row(
          d.path(),
          d.owner().map(SharedDirName::groupKey).orElse(null),
          d.owner().map(SharedDirName::instance).orElse(null),
          d.judgement().verdict(),
          d.action(),
          d.reason());
    }
    return t.render();
  }

  static Map<String, Object> sharedDirJson(SharedDirDecision d) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("path", d.path());
    m.put("name", d.name());
    m.put("podNamespace", d.owner().map(SharedDirName::namespace).orElse(null));
    m.put("group", d.owner().map(SharedDirName::group).orElse(null));
    m.put("instance", d.owner().map(SharedDirName::instance).orElse(null));
    m.put("verdict", d.judgement().verdict().name());
    m.put("action", d.action().name());
    m.put("reason", d.reason());
    return m;
  }

  public static String reapTable(List<Decision> decisions) {
    Table t =
        new Table(
            "IPCNS", "KEY", ">SHMID", ">SIZE", ">NATTCH", "POD", "GROUP", "VERDICT", "ACTION",
            "REASON");
    List<Decision> sorted = new ArrayList<>(decisions);
    sorted.sort(
        Comparator.comparingLong((Decision d) -> d.finding().segment().ipcNamespace())
            .thenComparingInt(d -> d.finding().segment().shmid()));
    for (Decision d : sorted) {
      Finding f = d.finding();
      Segment s = f.segment();
      t.row(
          s.ipcNamespace(),
          s.keyHex(),
          s.shmid(),
          Sizes.human(s.bytes()),
          s.nattch(),
          f.attribution().podLabel(),
          f.attribution().groupKey(),
          f.judgement().verdict(),
          d.action(),
          d.reason());
    }
    return t.render();
  }

  public static Map<String, Object> segmentJson(Finding f) {
    Segment s = f.segment();
    Attribution a = f.attribution();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("ipcNamespace", s.ipcNamespace());
    m.put("shmid", s.shmid());
    m.put("key", s.keyHex());
    m.put("perms", s.permsOctal());
    m.put("bytes", s.bytes());
    m.put("rssBytes", s.rssBytes() < 0 ? null : s.rssBytes());
    m.put("swapBytes", s.swapBytes() < 0 ? null : s.swapBytes());
    m.put("nattch", s.nattch());
    m.put("cpid", s.cpid());
    m.put("lpid", s.lpid());
    m.put("uid", s.uid());
    m.put("gid", s.gid());
    m.put("cuid", s.cuid());
    m.put("cgid", s.cgid());
    m.put("atime", time(s.atime()));
    m.put("dtime", time(s.dtime()));
    m.put("ctime", time(s.ctime()));
    m.put("podUid", a.podUid());
    m.put("podNamespace", a.pod() == null ? null : a.pod().namespace());
    m.put("podName", a.pod() == null ? null : a.pod().name());
    m.put("group", a.groupKey());
    m.put("instance", a.pod() == null ? null : a.pod().instance());
    m.put("attribution", a.source().name());
    m.put("creatorAlive", f.liveness().creatorAlive());
    m.put("lastOperatorAlive", f.liveness().lastOperatorAlive());
    m.put("policy", f.policy().orphanPolicy().name());
    m.put("verdict", f.judgement().verdict().name());
    m.put("reason", f.judgement().reason());
    return m;
  }

  static Map<String, Object> volumeJson(MemoryVolume v) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("kind", v.kind().name());
    m.put("name", v.name());
    m.put("path", v.path());
    m.put("podUid", v.podUid());
    m.put("podNamespace", v.podNamespace());
    m.put("group", v.group());
    m.put("instance", v.instance());
    m.put("sizeBytes", v.sizeBytes());
    m.put("usedBytes", v.usedBytes());
    return m;
  }

  static Map<String, Object> namespaceJson(NamespaceFinding n) {
    return namespaceJson(n, null);
  }

  /**
   * @param posixQueuesUnknown why the namespace's POSIX message queues could not be listed, or null
   *     when they were
   */
  static Map<String, Object> namespaceJson(NamespaceFinding n, String posixQueuesUnknown) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("inode", n.namespace().inode());
    m.put("host", n.namespace().host());
    m.put("pids", n.namespace().pids().size());
    m.put("podUid", n.attribution().podUid());
    m.put("attribution", n.attribution().source().name());
    m.put("detail", n.attribution().detail());
    m.put("problem", n.problem());
    m.put("posixMessageQueuesUnknown", posixQueuesUnknown);
    return m;
  }

  /**
   * {"scannedAt", "ipcNamespaces": [...], "segments": [...], "memoryVolumes": [...], "problems":
   * [...]}.
   */
  public static String scanJson(Findings findings) {
    return scanJson(findings, ScanFilter.ALL);
  }

  /**
   * {"scannedAt", "ipcNamespaces", then one array per kind the filter shows ("segments",
   * "semaphoreSets", "messageQueues" + "posixMessageQueues" + "posixMessageQueuesUnknown",
   * "memoryVolumes"), "problems"}: the same fields as the tables.
   */
  static String scanJson(Findings findings, ScanFilter filter) {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("scannedAt", findings.scannedAt().toString());
    root.put(
        "ipcNamespaces",
        findings.namespaces().stream()
            .filter(n -> filter.matches(n.attribution()))
            .map(
                n ->
                    namespaceJson(
                        n,
                        findings.ipcObjects().posixQueuesUnreadable().get(n.namespace().inode())))
            .toList());
    if (filter.shows(ScanFilter.Kind.segments)) {
      root.put(
          "segments",
          sorted(findings.segments()).stream()
              .filter(f -> filter.matches(f.attribution()))
              .map(Render::segmentJson)
              .toList());
    }
    if (filter.shows(ScanFilter.Kind.semaphores)) {
      root.put("semaphoreSets", SEMAPHORES.json(semaphores(findings, filter)));
    }
    if (filter.shows(ScanFilter.Kind.queues)) {
      root.put("messageQueues", MESSAGE_QUEUES.json(messageQueues(findings, filter)));
      root.put("posixMessageQueues", POSIX_QUEUES.json(posixQueues(findings, filter)));
      root.put(
          "posixMessageQueuesUnknown",
          POSIX_QUEUES_UNKNOWN.json(posixQueuesUnknown(findings, filter)));
    }
    if (filter.shows(ScanFilter.Kind.volumes)) {
      root.put(
          "memoryVolumes",
          findings.volumes().stream().filter(filter::matches).map(Render::volumeJson).toList());
    }
    if (filter.shows(ScanFilter.Kind.posix)) {
      root.put("posixObjects", posixJson(posixObjects(findings, filter), List.of()));
    }
    root.put("problems", findings.problems());
    return write(root);
  }

  /** Like {@link #reapJson(Findings, List, List, boolean)} without shared directories. */
  public static String reapJson(Findings findings, List<Decision> decisions, boolean dryRun) {
    return reapJson(findings, decisions, List.of(), dryRun);
  }

  /**
   * Like {@link #scanJson} with "decisions" (each segment plus "action" and "actionReason") instead
   * of "segments", and "sharedDirectories" (one decision per entry of the shared root).
   */
  public static String reapJson(
      Findings findings, List<Decision> decisions, List<SharedDirDecision> dirs, boolean dryRun) {
    return reapJson(findings, decisions, dirs, List.of(), dryRun);
  }

  /**
   * As above, with "posixObjects": each object with its verdict and, where one was taken, its
   * action.
   */
  public static String reapJson(
      Findings findings,
      List<Decision> decisions,
      List<SharedDirDecision> dirs,
      List<PosixObjectReaper.Decision> posix,
      boolean dryRun) {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("scannedAt", findings.scannedAt().toString());
    root.put("dryRun", dryRun);
    List<Map<String, Object>> out = new ArrayList<>();
    List<Decision> sorted = new ArrayList<>(decisions);
    sorted.sort(
        Comparator.comparingLong((Decision d) -> d.finding().segment().ipcNamespace())
            .thenComparingInt(d -> d.finding().segment().shmid()));
    for (Decision d : sorted) {
      Map<String, Object> m = segmentJson(d.finding());
      m.put("action", d.action().name());
      m.put("actionReason", d.reason());
      out.add(m);
    }
    root.put("decisions", out);
    root.put("sharedDirectories", dirs.stream().map(Render::sharedDirJson).toList());
    root.put("posixObjects", posixJson(findings.posix().objects(), posix));
    root.put("problems", findings.problems());
    return write(root);
  }

  static String write(Object value) {
    return Json.pretty(value) + "\n";
  }

  private static String time(long epochSecond) {
    return epochSecond <= 0 ? null : Instant.ofEpochSecond(epochSecond).toString();
  }

  // ---- POSIX shared-memory objects (issue "shared-memory inventory", items 1-2) ----

  /**
   * One row per POSIX object: volume kind, size, users, pod, group, verdict (and the action, for
   * reap).
   */
  public static String posixTable(
      List<PosixObjectFinding> objects, List<PosixObjectReaper.Decision> decisions) {
    Map<String, PosixObjectReaper.Decision> acted = new java.util.HashMap<>();
    decisions.forEach(d -> acted.put(d.object().path(), d));
    Table t =
        new Table(
            "POSIX OBJECT",
            "VOLUME",
            ">ALLOC",
            ">SIZE",
            ">OWNER",
            "OPEN",
            "MAPPED",
            "POD",
            "GROUP",
            "VERDICT",
            "ACTION",
            "REASON");
    for (PosixObjectFinding f : sortedPosix(objects)) {
      PosixObjectReaper.Decision d = acted.get(f.object().path());
      t.row(
          f.object().path(),
          f.object().volume().kind(),
          Sizes.human(f.object().allocatedBytes()),
          Sizes.human(f.object().apparentBytes()),
          f.object().uid(),
          pids(f.openPids()),
          pids(f.mappedPids()),
          f.podLabel(),
          groupOf(f),
          (d == null ? f.judgement() : d.judgement()).verdict(),
          d == null ? "-" : d.action(),
          (d == null ? f.judgement() : d.judgement()).reason()
              + (d == null || d.detail() == null ? "" : "; " + d.detail()));
    }
    return t.render();
  }

  /**
   * The object's pod's group, else its volume's (a SameNode directory or CSI instance belongs to an
   * instance, not a pod).
   */
  private static String groupOf(PosixObjectFinding f) {
    if (f.pod() != null) {
      return f.pod().groupKey();
    }
    MemoryVolume v = f.object().volume();
    return v.group() == null ? null : v.podNamespace() + "/" + v.group();
  }

  /**
   * The same fields as {@link #posixTable} in bytes and RFC 3339, plus the action when there is a
   * decision.
   */
  static List<Map<String, Object>> posixJson(
      List<PosixObjectFinding> objects, List<PosixObjectReaper.Decision> decisions) {
    Map<String, PosixObjectReaper.Decision> acted = new java.util.HashMap<>();
    decisions.forEach(d -> acted.put(d.object().path(), d));
    List<Map<String, Object>> out = new ArrayList<>();
    for (PosixObjectFinding f : sortedPosix(objects)) {
      var o = f.object();
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("path", o.path());
      m.put("name", o.name());
      m.put("volumeKind", o.volume().kind().name());
      m.put("volumePath", o.volume().path());
      m.put("fileKind", o.kind().name());
      m.put("allocatedBytes", o.allocatedBytes());
      m.put("apparentBytes", o.apparentBytes());
      m.put("uid", o.uid());
      m.put("gid", o.gid());
      m.put("mode", String.format("%04o", o.mode()));
      m.put("mtime", Instant.ofEpochSecond(0, o.mtimeNanos()).toString());
      m.put("ctime", Instant.ofEpochSecond(0, o.ctimeNanos()).toString());
      m.put("inUse", f.inUse());
      m.put("openPids", f.openPids());
      m.put("mappedPids", f.mappedPids());
      m.put("userPodUids", f.userPods());
      m.put("podUid", f.pod() == null ? null : f.pod().uid());
      m.put("podNamespace", f.pod() == null ? null : f.pod().namespace());
      m.put("podName", f.pod() == null ? null : f.pod().name());
      m.put("group", groupOf(f));
      m.put("instance", f.pod() != null ? f.pod().instance() : o.volume().instance());
      m.put("podsOfVolume", f.podsOfVolume());
      m.put("policy", f.policy().orphanPolicy().name());
      m.put("crashLoopGuard", f.guard());
      PosixObjectReaper.Decision d = acted.get(o.path());
      m.put("verdict", (d == null ? f.judgement() : d.judgement()).verdict().name());
      m.put("reason", (d == null ? f.judgement() : d.judgement()).reason());
      if (d != null) {
        m.put("action", d.action().name());
        m.put("actionReason", d.detail());
      }
      out.add(m);
    }
    return out;
  }

  private static List<PosixObjectFinding> sortedPosix(List<PosixObjectFinding> objects) {
    return objects.stream()
        .sorted(Comparator.comparing((PosixObjectFinding f) -> f.object().path()))
        .toList();
  }

  private static String pids(java.util.Set<Integer> pids) {
    if (pids == null) {
      return "?";
    }
    return pids.isEmpty()
        ? "-"
        : pids.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(","));
  }
}
