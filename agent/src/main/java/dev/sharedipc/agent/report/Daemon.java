package dev.sharedipc.agent.report;

import dev.sharedipc.agent.reap.Decision;
import dev.sharedipc.agent.reap.PosixObjectReaper;
import dev.sharedipc.agent.reap.Reaper;
import dev.sharedipc.agent.reap.SharedDirDecision;
import dev.sharedipc.agent.reap.SharedDirReaper;
import dev.sharedipc.agent.scan.PosixObject;
import dev.sharedipc.agent.survey.Findings;
import dev.sharedipc.agent.survey.PosixObjectFinding;
import dev.sharedipc.agent.survey.PosixVolumeFinding;
import dev.sharedipc.agent.survey.Survey;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The serve loop: survey, reap, record metrics, report. One pass at a time on one thread; a pass
 * that fails is logged and the next one runs on schedule. The reporter is optional: without it the
 * agent keeps scanning and reaping; with it, writes to the API server never hold a pass up for
 * longer than the reporter's bounded wait (see {@link NodeReporter}).
 */
public final class Daemon {
  private static final Logger log = LoggerFactory.getLogger(Daemon.class);

  private final Survey survey;
  private final Reaper reaper;
  private final Metrics metrics;
  private final NodeStatusBuilder status;
  private final NodeReporter reporter;
  private final Duration interval;
  private final SharedDirReaper sharedDirs;
  private PosixObjectReaper posixObjects;

  /**
   * Volumes whose crash-loop guard was on in the last pass: its Event is filed when it turns on,
   * not every pass.
   */
  private Set<String> guarded = Set.of();

  private final Object lastLock = new Object();

  /** Guarded by {@link #lastLock}. */
  private Findings last;

  private volatile Instant lastSuccess;
  private final Instant started = Instant.now();

  public Daemon(
      Survey survey,
      Reaper reaper,
      Metrics metrics,
      NodeStatusBuilder status,
      NodeReporter reporter,
      Duration interval) {
    this(survey, reaper, null, metrics, status, reporter, interval);
  }

  /**
   * @param sharedDirs removes SameNode shared directories whose instance is gone; null for none
   */
  public Daemon(
      Survey survey,
      Reaper reaper,
      SharedDirReaper sharedDirs,
      Metrics metrics,
      NodeStatusBuilder status,
      NodeReporter reporter,
      Duration interval) {
    this.sharedDirs = sharedDirs;
    this.survey = survey;
    this.reaper = reaper;
    this.metrics = metrics;
    this.status = status;
    this.reporter = reporter;
    this.interval = interval;
  }

  /**
   * Removes POSIX shared-memory objects each pass (judged under the groups' published policies);
   * without it they are inventoried and reported only.
   */
  public Daemon posixObjects(PosixObjectReaper reaper) {
    this.posixObjects = reaper;
    return this;
  }

  /** One pass; returns the decisions made. */
  public List<Decision> pass() throws Exception {
    Findings f;
    synchronized (lastLock) {
      // the last pass's findings go before this pass makes its own: one generation in memory, not
      // two (on a node of 10,000 segments and 10,000 POSIX objects a generation is most of the
      // heap)
      last = null;
      f = survey.run();
      last = f;
    }
    List<Decision> decisions = reaper.reap(f.segments(), f.namespaces());
    for (Decision d : decisions) {
      metrics.recordDecision(d);
      if (reporter != null) {
        reporter.recordEvent(d);
      }
    }
    if (sharedDirs != null) {
      for (SharedDirDecision d :
          sharedDirs.reap(f.posix().users())) { // the survey's read of /proc, not another
        metrics.recordSharedDir(d);
        if (reporter != null) {
          reporter.recordEvent(d);
        }
      }
    }
    List<PosixObjectReaper.Decision> posix = posixPass(f);
    metrics.recordScan(f);
    metrics.recordPosix(f.posix());
    lastSuccess = Instant.now();
    if (reporter != null) {
      var report = status.build(f, decisions, metrics.removedSegments());
      status.addPosix(report, f.posix(), posix, metrics.removedPosixObjects());
      metrics.apiServerUp(reporter.report(report));
    }
    log.debug(
        "pass done segments={} namespaces={} duration={}ms",
        f.segments().size(),
        f.namespaces().size(),
        f.duration().toMillis());
    return decisions;
  }

  /**
   * The POSIX part of a pass: removes what the verdicts allow (re-checked), one Event and one count
   * per removal, and an Event on the pod when a volume's crash-loop guard turns on.
   */
  private List<PosixObjectReaper.Decision> posixPass(Findings f) {
    List<PosixObjectReaper.Decision> decisions =
        posixObjects == null ? List.of() : posixObjects.reap(f.posix(), Instant.now());
    Map<PosixObject, PosixObjectFinding> byObject = new IdentityHashMap<>();
    f.posix().objects().forEach(o -> byObject.put(o.object(), o));
    for (PosixObjectReaper.Decision d : decisions) {
      PosixObjectFinding finding = byObject.get(d.object());
      metrics.recordPosixDecision(d, finding);
      if (reporter != null) {
        reporter.recordEvent(d, finding);
      }
    }
    Set<String> on = new HashSet<>();
    for (PosixVolumeFinding v : f.posix().volumes()) {
      if (v.guard() == null) {
        continue;
      }
      on.add(v.volume().path());
      if (!guarded.contains(v.volume().path())) {
        log.warn(
            "crash-loop guard on volume=\"{}\" pod={} used={} size={} backOff={} restarted={}",
            v.volume().path(),
            v.pod() == null ? "-" : v.pod().uid(),
            v.volume().usedBytes(),
            v.volume().sizeBytes(),
            v.guard().backOff(),
            v.guard().restarted());
        if (reporter != null) {
          reporter.recordGuard(v);
        }
      }
    }
    guarded = on;
    return decisions;
  }

  /** Runs passes every interval until interrupted. */
  public void run() {
    while (!Thread.currentThread().isInterrupted()) {
      long start = System.nanoTime();
      try {
        pass();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (Exception e) {
        log.error("pass failed reason=\"{}\"", e.toString(), e);
      }
      long sleep = interval.toMillis() - (System.nanoTime() - start) / 1_000_000;
      try {
        Thread.sleep(Math.max(1000, sleep));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /**
   * The findings of the last pass, or null before the first (or after a pass that failed); waits
   * while a pass is surveying.
   */
  public Findings last() {
    synchronized (lastLock) {
      return last;
    }
  }

  /** Healthy while a pass succeeded within three intervals (or the first one is still due). */
  public boolean healthy() {
    return unhealthy().isEmpty();
  }

  /**
   * Why the loop is unhealthy: no pass succeeded within three intervals (the first one is allowed
   * as long).
   */
  public Optional<String> unhealthy() {
    Instant ok = lastSuccess;
    Duration window = interval.multipliedBy(3).plusSeconds(30);
    boolean fine =
        ok == null
            ? Instant.now().isBefore(started.plus(window))
            : Instant.now().isBefore(ok.plus(window));
    return fine
        ? Optional.empty()
        : Optional.of(
            "no successful scan "
                + (ok == null ? "since the start " : "since " + ok)
                + " (more than "
                + dev.sharedipc.api.Durations.format(window)
                + "); the agent log says why passes fail");
  }
}
