package dev.sharedipc.agent.attribution;

import dev.sharedipc.agent.kernel.LinuxKernel;
import dev.sharedipc.agent.scan.IpcNamespace;
import dev.sharedipc.agent.scan.ProcessTable;
import dev.sharedipc.agent.scan.Segment;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Attributes namespaces and segments to pods. A pod's own IPC namespace is attributed when every
 * process in it that belongs to any pod belongs to the same one (processes outside any pod, such as
 * a debugging nsenter, do not count against it). Segments of the host namespace are attributed one
 * by one: to the pod of their live creator (and recorded in the {@link Ledger}), or to what the
 * ledger recorded. A live pid is the creator only if its process started by the segment's ctime
 * ({@link ProcessTable#aliveSince}): a reused pid names another process. Everything else is
 * unattributed. Reads {@code <pid>/cgroup} under the discovery proc root; one instance serves one
 * pass (it memoizes).
 */
public final class Attributor {
  private final Path procRoot;
  private final PodDirectory pods;
  private final Ledger ledger;
  private final Map<Integer, CgroupInfo> cgroups = new HashMap<>();

  public Attributor(Path procRoot, PodDirectory pods, Ledger ledger) {
    this.procRoot = procRoot;
    this.pods = pods;
    this.ledger = ledger;
  }

  /** The cgroup facts of a pid, {@link CgroupInfo#NONE} when it is gone or unreadable. */
  public CgroupInfo cgroupOf(int pid) {
    return cgroups.computeIfAbsent(
        pid,
        p -> {
          try {
            return CgroupParser.parse(
                new String(
                    LinuxKernel.readProcFile(
                        procRoot.resolve(Integer.toString(p)).resolve("cgroup")),
                    StandardCharsets.UTF_8));
          } catch (IOException | RuntimeException e) {
            return CgroupInfo.NONE;
          }
        });
  }

  public Attribution forNamespace(IpcNamespace ns) {
    if (ns.host()) {
      return Attribution.none(
          "host IPC namespace: segments are attributed one by one, by creator or ledger");
    }
    TreeSet<String> uids = new TreeSet<>();
    for (int pid : ns.pids()) {
      CgroupInfo info = cgroupOf(pid);
      if (info.conflicting()) {
        return Attribution.ambiguous("pid " + pid + " has cgroup lines naming different pods");
      }
      if (info.podUid() != null) {
        uids.add(info.podUid());
      }
    }
    if (uids.size() > 1) {
      return Attribution.ambiguous(
          "processes of " + uids.size() + " pods share this namespace: " + String.join(",", uids));
    }
    if (uids.isEmpty()) {
      return Attribution.none(
          "no process in this namespace is in a pod cgroup (pids " + abbreviate(ns.pids()) + ")");
    }
    String uid = uids.first();
    PodInfo pod = pods.byUid(uid).orElse(null);
    return new Attribution(Attribution.Source.POD_NAMESPACE, uid, pod, "namespace of pod " + uid);
  }

  public Attribution forSegment(
      Segment s,
      IpcNamespace ns,
      Attribution namespaceAttribution,
      ProcessTable live,
      Instant now) {
    if (!ns.host()) {
      return namespaceAttribution;
    }
    // a live pid that started after the segment's ctime is a reuse, not the creator: it neither
    // owns nor records it
    if (live.aliveSince(s.cpid(), ns.inode(), s.ctime())) {
      CgroupInfo creator = cgroupOf(s.cpid());
      if (creator.podUid() != null) {
        PodInfo pod =
            pods.byUid(creator.podUid())
                .orElse(new PodInfo(creator.podUid(), null, null, null, null));
        ledger.record(s, pod, now);
        return new Attribution(
            Attribution.Source.LIVE_CREATOR,
            creator.podUid(),
            pod.name() == null ? null : pod,
            "created by pid " + s.cpid() + " of pod " + creator.podUid());
      }
      return Attribution.none("host namespace, created by pid " + s.cpid() + " outside any pod");
    }
    PodInfo recorded = ledger.lookup(s);
    if (recorded != null) {
      PodInfo pod = pods.byUid(recorded.uid()).orElse(recorded);
      return new Attribution(
          Attribution.Source.LEDGER,
          recorded.uid(),
          pod,
          "host namespace, creator recorded in the ledger as pod " + recorded.uid());
    }
    return Attribution.none("host namespace, creator gone and not in the ledger");
  }

  /** Every live pid of each pod, by pod UID in order, for reading the pods' /dev/shm. */
  public Map<String, List<Integer>> podPids(List<IpcNamespace> namespaces) {
    Map<String, List<Integer>> out = new TreeMap<>();
    for (IpcNamespace ns : namespaces) {
      for (int pid : ns.pids()) {
        Optional.ofNullable(cgroupOf(pid).podUid())
            .ifPresent(uid -> out.computeIfAbsent(uid, u -> new ArrayList<>()).add(pid));
      }
    }
    out.values().forEach(pids -> pids.sort(null));
    return out;
  }

  private static String abbreviate(List<Integer> pids) {
    return pids.size() <= 3 ? pids.toString() : pids.subList(0, 3) + "+" + (pids.size() - 3);
  }
}
