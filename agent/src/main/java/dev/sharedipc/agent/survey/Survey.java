package dev.sharedipc.agent.survey;

import dev.sharedipc.agent.attribution.Attribution;
import dev.sharedipc.agent.attribution.Attributor;
import dev.sharedipc.agent.attribution.Ledger;
import dev.sharedipc.agent.attribution.PodDirectory;
import dev.sharedipc.agent.kernel.Kernel;
import dev.sharedipc.agent.kernel.NamespaceRef;
import dev.sharedipc.agent.kernel.NamespaceUnavailableException;
import dev.sharedipc.agent.kernel.ShmLimits;
import dev.sharedipc.agent.scan.IpcNamespace;
import dev.sharedipc.agent.scan.MessageQueue;
import dev.sharedipc.agent.scan.NamespaceCollector;
import dev.sharedipc.agent.scan.PosixQueue;
import dev.sharedipc.agent.scan.PosixQueueCollector;
import dev.sharedipc.agent.scan.ProcessTable;
import dev.sharedipc.agent.scan.Segment;
import dev.sharedipc.agent.scan.SemaphoreSet;
import dev.sharedipc.agent.scan.SysvSemMsgParser;
import dev.sharedipc.agent.scan.SysvShmParser;
import dev.sharedipc.agent.scan.VolumeCollector;
import dev.sharedipc.agent.verdict.Judgement;
import dev.sharedipc.agent.verdict.Liveness;
import dev.sharedipc.agent.verdict.OrphanJudge;
import dev.sharedipc.agent.verdict.Policy;
import dev.sharedipc.agent.verdict.PolicyResolver;
import dev.sharedipc.agent.verdict.Verdict;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pass over the node: discover namespaces, read each one's segments from inside it, attribute,
 * judge, and collect memory volumes. Collaborators are passed in; this class only sequences them. A
 * namespace that cannot be read is reported with the reason and skipped; the pass goes on.
 */
public final class Survey {
  private static final Logger log = LoggerFactory.getLogger(Survey.class);

  /**
   * Where things are. {@code discoveryRoot} is /proc or a fixture; {@code kernelProcRoot} is always
   * the real /proc in production.
   */
  public record Config(
      Path discoveryRoot,
      Path kernelProcRoot,
      long hostIpcNamespace,
      Path kubeletRoot,
      Path nodeSharedRoot,
      Path hostShm,
      Path usersProcRoot,
      Path csiStateDir) {
    /** Without the CSI driver's instance volumes. */
    public Config(
        Path discoveryRoot,
        Path kernelProcRoot,
        long hostIpcNamespace,
        Path kubeletRoot,
        Path nodeSharedRoot,
        Path hostShm,
        Path usersProcRoot) {
      this(
          discoveryRoot,
          kernelProcRoot,
          hostIpcNamespace,
          kubeletRoot,
          nodeSharedRoot,
          hostShm,
          usersProcRoot,
          null);
    }

    /** Users of files looked for in the real /proc. */
    public Config(
        Path discoveryRoot,
        Path kernelProcRoot,
        long hostIpcNamespace,
        Path kubeletRoot,
        Path nodeSharedRoot,
        Path hostShm) {
      this(
          discoveryRoot,
          kernelProcRoot,
          hostIpcNamespace,
          kubeletRoot,
          nodeSharedRoot,
          hostShm,
          kernelProcRoot);
    }

    /** Without the host's /dev/shm. */
    public Config(
        Path discoveryRoot,
        Path kernelProcRoot,
        long hostIpcNamespace,
        Path kubeletRoot,
        Path nodeSharedRoot) {
      this(discoveryRoot, kernelProcRoot, hostIpcNamespace, kubeletRoot, nodeSharedRoot, null);
    }
  }

  private final Config config;
  private Path hostNamespaceFile;
  private String hostNamespaceUnknown;
  private final Kernel kernel;
  private final PodDirectory pods;
  private final Ledger ledger;
  private final PolicyResolver policies;
  private final Clock clock;

  public Survey(
      Config config,
      Kernel kernel,
      PodDirectory pods,
      Ledger ledger,
      PolicyResolver policies,
      Clock clock) {
    this.config = config;
    this.kernel = kernel;
    this.pods = pods;
    this.ledger = ledger;
    this.policies = policies;
    this.clock = clock;
  }

  /**
   * The file that leads into the host's IPC namespace ({@code /proc/1/ns/ipc} in the agent's pod),
   * entered to read the host's limits when no process under the discovery root is in it (a fixture
   * proc root). Without it such a pass reports no limits: the agent's own namespace is never taken
   * for the host's.
   */
  public Survey hostNamespaceFile(Path file) {
    this.hostNamespaceFile = file;
    return this;
  }

  /**
   * The host's IPC namespace could not be named ({@code config.hostIpcNamespace()} is 0): every
   * pass says {@code why} under problems, and neither takes a namespace for the host's nor reads
   * the host's limits.
   */
  public Survey hostNamespaceUnknown(String why) {
    this.hostNamespaceUnknown = why;
    return this;
  }

  /**
   * Starts reading every namespace: each read is one visit of {@link Kernel#startInIpcNamespace},
   * done by the kernel's visitors (two at a time) while this thread goes on.
   */
  private List<java.util.concurrent.Future<SysvRead>> readAll(List<IpcNamespace> namespaces) {
    List<java.util.concurrent.Future<SysvRead>> out = new ArrayList<>(namespaces.size());
    for (IpcNamespace ns : namespaces) {
      out.add(
          kernel.startInIpcNamespace(
              ns.ref(),
              session ->
                  new SysvRead(
                      SysvShmParser.parse(ns.inode(), session.readSysvShm()),
                      SysvSemMsgParser.semaphores(ns.inode(), session.readSysvSem()),
                      SysvSemMsgParser.queues(ns.inode(), session.readSysvMsg()),
                      // limits are per namespace: the host's are read from inside it, not from the
                      // agent's own
                      ns.host() ? kernel.limits().orElse(null) : null)));
    }
    return out;
  }

  /**
   * The three System V tables of one namespace, read in one visit (each lists only the reading
   * thread's namespace), and for the host's namespace its limits and usage.
   */
  private record SysvRead(
      SysvShmParser.Result shm,
      SysvSemMsgParser.Semaphores sem,
      SysvSemMsgParser.Queues msg,
      ShmLimits hostLimits) {}

  private ShmLimits hostLimitsFromFile(List<String> problems) {
    try {
      return kernel.inIpcNamespace(
          new NamespaceRef(config.hostIpcNamespace(), List.of(hostNamespaceFile)),
          session -> kernel.limits().orElse(null));
    } catch (Exception e) {
      problems.add(
          "cannot read the host's IPC limits through " + hostNamespaceFile + ": " + e.getMessage());
      return null;
    }
  }

  private static SysvRead unwrap(java.util.concurrent.Future<SysvRead> f) throws Exception {
    try {
      return f.get();
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof Exception cause) {
        throw cause;
      }
      throw e;
    }
  }

  /** Notes skipped lines of one /proc/sysvipc table as a problem; returns their count. */
  private static int malformed(List<String> problems, String table, int lines, IpcNamespace ns) {
    if (lines > 0) {
      problems.add(
          lines
              + " malformed line(s) in /proc/sysvipc/"
              + table
              + " of ipc:["
              + ns.inode()
              + "] skipped");
    }
    return lines;
  }

  /**
   * The POSIX objects of the volumes found plus the host's /dev/shm; users looked for under both
   * proc roots.
   */
  private PosixFindings posix(
      Attributor attributor,
      List<dev.sharedipc.agent.scan.MemoryVolume> volumes,
      Map<String, List<Integer>> podPids,
      Instant now,
      List<String> problems) {
    return new PosixSurvey(
            kernel,
            pods,
            policies,
            config.discoveryRoot(),
            List.of(config.discoveryRoot(), config.usersProcRoot()),
            config.hostShm(),
            config.nodeSharedRoot(),
            pid -> attributor.cgroupOf(pid).podUid())
        .run(volumes, podPids, now, problems);
  }

  public Findings run() throws IOException {
    long started = System.nanoTime();
    Instant now = clock.instant();
    List<String> problems = new ArrayList<>();
    if (hostNamespaceUnknown != null) {
      problems.add(hostNamespaceUnknown);
    }
    if (ledger.loadProblem() != null) {
      problems.add(ledger.loadProblem());
    }
    List<IpcNamespace> namespaces =
        new NamespaceCollector(config.discoveryRoot(), config.hostIpcNamespace()).collect();
    Attributor attributor = new Attributor(config.discoveryRoot(), pods, ledger);
    ProcessTable live = new ProcessTable(config.kernelProcRoot());
    List<NamespaceFinding> nsFindings = new ArrayList<>(namespaces.size());
    List<Finding> findings = new ArrayList<>();
    Map<Judgement, Judgement> judgements = new java.util.HashMap<>();
    int malformed = 0;
    List<java.util.concurrent.Future<SysvRead>> reads = readAll(namespaces);
    // The memory volumes and their POSIX objects need nothing from the System V tables: surveyed
    // while the visitors read those, this thread does its own /proc reads instead of waiting.
    Map<String, List<Integer>> podPids = attributor.podPids(namespaces);
    var volumes =
        new VolumeCollector(
                kernel,
                config.kubeletRoot(),
                config.discoveryRoot(),
                config.nodeSharedRoot(),
                config.csiStateDir())
            .collect(podPids, problems);
    PosixFindings posix = posix(attributor, volumes, podPids, now, problems);
    // semaphore sets and message queues: inventoried with their namespace's attribution, never
    // judged
    List<Attributed<SemaphoreSet>> semaphoreSets = new ArrayList<>();
    List<Attributed<MessageQueue>> messageQueues = new ArrayList<>();
    List<Attributed<PosixQueue>> posixQueues = new ArrayList<>();
    Map<Long, String> posixQueuesUnreadable = new TreeMap<>();
    PosixQueueCollector posixQueueCollector =
        new PosixQueueCollector(kernel, config.discoveryRoot());
    ShmLimits hostLimits = null;
    for (int i = 0; i < namespaces.size(); i++) {
      IpcNamespace ns = namespaces.get(i);
      Attribution nsAttribution = attributor.forNamespace(ns);
      SysvRead sysv;
      SysvShmParser.Result read;
      try {
        sysv = unwrap(reads.get(i));
        read = sysv.shm();
      } catch (NamespaceUnavailableException e) {
        nsFindings.add(new NamespaceFinding(ns, nsAttribution, e.getMessage()));
        if (e.gone()) {
          log.debug("namespace skipped ipcns={} reason=\"{}\"", ns.inode(), e.getMessage());
        } else {
          log.warn("namespace unreadable ipcns={} reason=\"{}\"", ns.inode(), e.getMessage());
          problems.add(e.getMessage());
        }
        continue;
      } catch (Exception e) {
        String why = "reading ipc:[" + ns.inode() + "] failed: " + e.getMessage();
        nsFindings.add(new NamespaceFinding(ns, nsAttribution, why));
        problems.add(why);
        log.warn("namespace unreadable ipcns={} reason=\"{}\"", ns.inode(), why);
        continue;
      }
      if (read.malformedLines() > 0) {
        malformed += read.malformedLines();
        problems.add(
            read.malformedLines()
                + " malformed line(s) in /proc/sysvipc/shm of ipc:["
                + ns.inode()
                + "] skipped");
      }
      nsFindings.add(new NamespaceFinding(ns, nsAttribution, null));
      if (sysv.hostLimits() != null) {
        hostLimits = sysv.hostLimits();
      }
      malformed += malformed(problems, "sem", sysv.sem().malformedLines(), ns);
      malformed += malformed(problems, "msg", sysv.msg().malformedLines(), ns);
      sysv.sem().sets().forEach(x -> semaphoreSets.add(new Attributed<>(x, nsAttribution)));
      sysv.msg().queues().forEach(x -> messageQueues.add(new Attributed<>(x, nsAttribution)));
      // POSIX queues of a namespace that could be read (a namespace gone before setns has nothing
      // to say)
      PosixQueueCollector.Result queues = posixQueueCollector.collect(ns);
      queues.queues().forEach(q -> posixQueues.add(new Attributed<>(q, nsAttribution)));
      if (queues.unreadable() != null) {
        posixQueuesUnreadable.put(ns.inode(), queues.unreadable());
        log.debug(
            "posix queues unreadable ipcns={} reason=\"{}\"", ns.inode(), queues.unreadable());
      }
      for (Segment s : read.segments()) {
        Attribution a = attributor.forSegment(s, ns, nsAttribution, live, now);
        Liveness l = Liveness.of(s, live);
        Policy p = a.attributed() ? policies.policyFor(a) : Policy.UNKNOWN;
        // one Judgement per distinct verdict and sentence: a namespace's segments mostly share both
        Judgement j = judgements.computeIfAbsent(OrphanJudge.judge(s, l, a, p, now), k -> k);
        Finding f = new Finding(s, a, l, p, j);
        findings.add(f);
        if (j.verdict().orphan() || j.verdict() == Verdict.Ambiguous) {
          log.info("judged {}", f.audit("None", null));
        } else if (log.isDebugEnabled()) {
          log.debug("judged {}", f.audit("None", null));
        }
      }
      if (ns.host()) {
        ledger.retainOnly(ns.inode(), read.segments());
      }
    }
    if (hostLimits == null
        && hostNamespaceFile != null
        && namespaces.stream().noneMatch(IpcNamespace::host)) {
      hostLimits = hostLimitsFromFile(problems);
    }
    try {
      ledger.save();
    } catch (IOException e) {
      problems.add(
          "cannot write the ledger: "
              + e.getMessage()
              + " (host-namespace attributions will not survive a restart)");
    }
    return new Findings(
        now,
        Duration.ofNanos(System.nanoTime() - started),
        nsFindings,
        findings,
        volumes,
        hostLimits,
        problems,
        malformed,
        new IpcObjects(semaphoreSets, messageQueues, posixQueues, posixQueuesUnreadable),
        posix);
  }
}
