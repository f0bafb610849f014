package dev.sharedipc.agent.reap;

import dev.sharedipc.agent.kernel.Kernel;
import dev.sharedipc.agent.kernel.KernelException;
import dev.sharedipc.agent.kernel.NamespaceRef;
import dev.sharedipc.agent.kernel.NamespaceUnavailableException;
import dev.sharedipc.agent.kernel.ShmStat;
import dev.sharedipc.agent.scan.ProcessTable;
import dev.sharedipc.agent.scan.Segment;
import dev.sharedipc.agent.survey.Finding;
import dev.sharedipc.agent.survey.NamespaceFinding;
import dev.sharedipc.agent.verdict.Liveness;
import dev.sharedipc.agent.verdict.Verdict;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Acts on verdicts. It judges nothing itself: for each {@link Verdict#Remove} it joins the
 * segment's namespace and, on that thread, immediately before {@code IPC_RMID}, checks again that
 * the segment is the one judged (same shmid, key and ctime), still unattached, untouched since
 * (same atime, dtime, last operator) and that its creator and last operator are still gone (a fresh
 * look at the real procfs). Any difference spares the segment. Every decision is logged as one
 * key=value line and passed to the listener (metrics, Events).
 *
 * <p>Residual race: between the final IPC_STAT and IPC_RMID (microseconds) a process could attach
 * by shmid. IPC_RMID then only marks the segment: the attacher keeps its memory until it detaches,
 * so no data in use is destroyed; only new attaches by key fail.
 */
public final class Reaper {
  private static final Logger log = LoggerFactory.getLogger(Reaper.class);

  private final Kernel kernel;
  private final Path kernelProcRoot;
  private final boolean dryRun;
  private final Consumer<Decision> listener;

  public Reaper(Kernel kernel, Path kernelProcRoot, boolean dryRun, Consumer<Decision> listener) {
    this.kernel = kernel;
    this.kernelProcRoot = kernelProcRoot;
    this.dryRun = dryRun;
    this.listener = listener;
  }

  public List<Decision> reap(List<Finding> findings, List<NamespaceFinding> namespaces) {
    Map<Long, NamespaceRef> refs = new HashMap<>();
    for (NamespaceFinding n : namespaces) {
      refs.put(n.namespace().inode(), n.namespace().ref());
    }
    List<Decision> decisions = new ArrayList<>(findings.size());
    for (Finding f : findings) {
      Decision d = decide(f, refs.get(f.segment().ipcNamespace()));
      decisions.add(d);
      if (d.action() == Action.Removed || d.action() == Action.WouldRemove) {
        log.info("reap {}", d.audit());
      } else if (d.action() == Action.Spared || d.action() == Action.Failed) {
        log.warn("reap {}", d.audit());
      } else if (f.judgement().verdict().orphan()) {
        log.info("reap {}", d.audit());
      } else if (log.isDebugEnabled()) {
        log.debug("reap {}", d.audit());
      }
      listener.accept(d);
    }
    return decisions;
  }

  /** The decision on one finding; removes the segment when every re-check holds. */
  public Decision decide(Finding f, NamespaceRef ns) {
    if (f.judgement().verdict() != Verdict.Remove) {
      return new Decision(f, Action.Kept, f.judgement().reason());
    }
    if (!f.attribution().attributed()) {
      // unreachable through OrphanJudge; kept here too because this is the last line of defence
      return new Decision(f, Action.Kept, "unattributed segments are never removed");
    }
    if (dryRun) {
      return new Decision(f, Action.WouldRemove, "dry run: " + f.judgement().reason());
    }
    if (ns == null) {
      return new Decision(
          f,
          Action.Failed,
          "its namespace ipc:[" + f.segment().ipcNamespace() + "] is not known to this pass");
    }
    try {
      return kernel.inIpcNamespace(
          ns,
          session -> {
            Segment judged = f.segment();
            ShmStat now;
            try {
              now = session.stat(judged.shmid());
            } catch (KernelException e) {
              if (e.isGone()) {
                return new Decision(
                    f, Action.Spared, "segment shmid=" + judged.shmid() + " no longer exists");
              }
              return new Decision(f, Action.Failed, e.getMessage());
            }
            String changed = difference(judged, now);
            if (changed != null) {
              return new Decision(f, Action.Spared, changed);
            }
            // judged and now agree on cpid, lpid, ctime, atime and dtime (difference above): ask as
            // the judgement did
            Liveness again = Liveness.of(judged, new ProcessTable(kernelProcRoot));
            if (again.creatorAlive()) {
              return new Decision(
                  f,
                  Action.Spared,
                  "creator pid " + now.cpid() + " is alive in the namespace again");
            }
            if (again.lastOperatorAlive()) {
              return new Decision(
                  f,
                  Action.Spared,
                  "last operator pid " + now.lpid() + " is alive in the namespace");
            }
            try {
              session.remove(judged.shmid());
            } catch (KernelException e) {
              if (e.isGone()) {
                return new Decision(
                    f,
                    Action.Spared,
                    "segment shmid=" + judged.shmid() + " vanished before IPC_RMID");
              }
              return new Decision(f, Action.Failed, e.getMessage());
            }
            return new Decision(f, Action.Removed, f.judgement().reason());
          });
    } catch (NamespaceUnavailableException e) {
      return new Decision(f, e.gone() ? Action.Spared : Action.Failed, e.getMessage());
    } catch (Exception e) {
      return new Decision(f, Action.Failed, "removal failed: " + e);
    }
  }

  /** Why the segment is not the one that was judged, or null when nothing that matters changed. */
  static String difference(Segment judged, ShmStat now) {
    if (now.key() != judged.key()) {
      return String.format(
          "key changed from 0x%08x to 0x%08x since judgement (removed and re-created?)",
          judged.key(), now.key());
    }
    if (now.ctime() != judged.ctime()) {
      return "ctime changed from "
          + judged.ctime()
          + " to "
          + now.ctime()
          + " since judgement (re-created or IPC_SET)";
    }
    if (now.markedForRemoval()) {
      return "already marked for removal by someone else";
    }
    if (now.nattch() > 0) {
      return "attached again since judgement (nattch=" + now.nattch() + ")";
    }
    if (now.cpid() != judged.cpid()) {
      return "creator pid changed from " + judged.cpid() + " to " + now.cpid();
    }
    if (now.lpid() != judged.lpid()
        || now.atime() != judged.atime()
        || now.dtime() != judged.dtime()) {
      return "used since judgement (last operator "
          + judged.lpid()
          + "->"
          + now.lpid()
          + ", atime "
          + judged.atime()
          + "->"
          + now.atime()
          + ", dtime "
          + judged.dtime()
          + "->"
          + now.dtime()
          + ")";
    }
    return null;
  }
}
