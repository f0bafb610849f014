package dev.sharedipc.agent.survey;

import dev.sharedipc.agent.attribution.Attribution;
import dev.sharedipc.agent.attribution.NodePod;
import dev.sharedipc.agent.attribution.PodDirectory;
import dev.sharedipc.agent.attribution.PodInfo;
import dev.sharedipc.agent.kernel.FsUsage;
import dev.sharedipc.agent.kernel.Kernel;
import dev.sharedipc.agent.kernel.KernelException;
import dev.sharedipc.agent.scan.FileUsersIndex;
import dev.sharedipc.agent.scan.MemoryVolume;
import dev.sharedipc.agent.scan.OpenFileUsers.FileId;
import dev.sharedipc.agent.scan.PosixObject;
import dev.sharedipc.agent.scan.PosixObject.FileKind;
import dev.sharedipc.agent.scan.PosixObjectCollector;
import dev.sharedipc.agent.scan.PosixScan;
import dev.sharedipc.agent.verdict.Policy;
import dev.sharedipc.agent.verdict.PolicyResolver;
import dev.sharedipc.agent.verdict.PosixObjectJudgement;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The POSIX part of a pass: lists the objects of every memory volume the pass found plus the host's
 * /dev/shm ({@link PosixObjectCollector}) and, at the same time, who has them open or mapped once
 * for all of them ({@link FileUsersIndex}; both through {@link PosixScan}), attributes each volume
 * to its pod, checks the crash-loop guard per volume (full, and a container of its pod restarting),
 * and judges every object ({@code PosixObjectJudge} through {@link PosixObjectFinding#judge}).
 *
 * <p>A volume counts as one pod's only when exactly one pod can reach it: a memory emptyDir is its
 * pod's; a pod's /dev/shm is counted once per pod whose processes see that same filesystem (two
 * hostIPC pods sharing the node's /dev/shm make it nobody's), and never when it is the host's
 * /dev/shm; a SameNode shared directory belongs to an instance of several pods, so its objects are
 * reported and never removed one by one (the whole directory goes when its instance is gone).
 */
final class PosixSurvey {
  private static final Logger log = LoggerFactory.getLogger(PosixSurvey.class);

  private final Kernel kernel;
  private final PodDirectory pods;
  private final PolicyResolver policies;
  private final Path procRoot;
  private final List<Path> usersProcRoots;
  private final Path hostShm;
  private final Path sharedRoot;
  private final IntFunction<String> podOfPid;

  /**
   * @param procRoot where pods' processes are found (their {@code root/dev/shm})
   * @param usersProcRoots where to look for processes that use an object (a user under any of them
   *     counts)
   * @param hostShm the host's /dev/shm, or null for none
   * @param sharedRoot the SameNode shared root, or null: the users index covers its filesystem too,
   *     so that its reaper judges from this pass's one read of /proc
   * @param podOfPid the pod UID of a pid under {@code procRoot}, or null
   */
  PosixSurvey(
      Kernel kernel,
      PodDirectory pods,
      PolicyResolver policies,
      Path procRoot,
      List<Path> usersProcRoots,
      Path hostShm,
      Path sharedRoot,
      IntFunction<String> podOfPid) {
    this.kernel = kernel;
    this.pods = pods;
    this.policies = policies;
    this.procRoot = procRoot;
    this.usersProcRoots = usersProcRoots;
    this.hostShm = hostShm;
    this.sharedRoot = sharedRoot;
    this.podOfPid = podOfPid;
  }

  PosixFindings run(
      List<MemoryVolume> found,
      Map<String, List<Integer>> podPids,
      Instant now,
      List<String> problems) {
    List<MemoryVolume> volumes = new ArrayList<>(found);
    Long hostDevice = null;
    if (hostShm != null) {
      Optional<MemoryVolume> host = hostVolume(problems);
      if (host.isPresent()) {
        volumes.add(host.get());
        hostDevice = device(Path.of(host.get().path()));
      }
    }
    // one file seen through two volumes (a shared directory on the host's /dev/shm) counts once, in
    // the first
    PosixScan scan =
        PosixScan.read(
            volumes,
            usersProcRoots,
            sharedRoot == null ? List.of() : List.of(sharedRoot),
            problems);
    Map<FileId, PosixObject> unique = new LinkedHashMap<>();
    for (PosixObject o : scan.objects()) {
      unique.putIfAbsent(o.id(), o);
    }
    FileUsersIndex index = scan.users();
    if (index.unknown() != null) {
      problems.add(
          "who has POSIX shared-memory objects open or mapped is not known, so every object is kept: "
              + index.unknown());
    }
    Map<Long, Set<String>> podsByShmDevice = podsByShmDevice(podPids);
    Map<String, List<PosixObject>> byVolume = new HashMap<>();
    unique
        .values()
        .forEach(o -> byVolume.computeIfAbsent(o.volume().path(), p -> new ArrayList<>()).add(o));

    List<PosixVolumeFinding> volumeFindings = new ArrayList<>();
    List<PosixObjectFinding> objectFindings = new ArrayList<>();
    for (MemoryVolume v : volumes) {
      PodInfo pod =
          v.podUid() == null
              ? null
              : pods.byUid(v.podUid()).orElse(new PodInfo(v.podUid(), null, null, null, null));
      int podsOfVolume = podsOfVolume(v, podsByShmDevice, hostDevice);
      Policy policy =
          podsOfVolume == 1
              ? policies.policyFor(
                  new Attribution(
                      Attribution.Source.POD_NAMESPACE,
                      v.podUid(),
                      pod,
                      "memory volume of pod " + v.podUid()))
              : Policy.UNKNOWN;
      List<PosixObject> objects = byVolume.getOrDefault(v.path(), List.of());
      PosixVolumeFinding.CrashLoopGuard guard = guard(v, policy, objects, index, now);
      boolean shortcut = guard != null && guard.inBackOff();
      long orphans = 0;
      long bytes = 0;
      for (PosixObject o : objects) {
        FileUsersIndex.Users users = index.users(o.id());
        Set<String> userPods = Set.of(); // most objects have no user: not an empty set each
        if (users != null && !(users.open().isEmpty() && users.mapped().isEmpty())) {
          Set<String> pods = new TreeSet<>();
          users.all().forEach(pid -> Optional.ofNullable(podOfPid.apply(pid)).ifPresent(pods::add));
          userPods = pods.isEmpty() ? Set.of() : pods;
        }
        PosixObjectFinding pending =
            new PosixObjectFinding(
                o,
                pod,
                podsOfVolume,
                users == null ? null : users.open(),
                users == null ? null : users.mapped(),
                userPods,
                policy,
                shortcut,
                null);
        PosixObjectJudgement j = pending.judge(users == null ? null : users.all(), now);
        PosixObjectFinding f =
            new PosixObjectFinding(
                o,
                pod,
                podsOfVolume,
                pending.openPids(),
                pending.mappedPids(),
                userPods,
                policy,
                shortcut,
                j);
        objectFindings.add(f);
        bytes += o.allocatedBytes();
        orphans += j.orphan() ? 1 : 0;
        if (j.orphan()) {
          log.info("judged {}", f.audit("None", null));
        }
      }
      if (guard != null && log.isDebugEnabled()) {
        log.debug(
            "crash-loop guard volume=\"{}\" pod={} used={} size={} backOff={} restarted={} policy={}",
            v.path(),
            pod == null ? "-" : pod.uid(),
            v.usedBytes(),
            v.sizeBytes(),
            guard.backOff(),
            guard.restarted(),
            policy.orphanPolicy());
      }
      volumeFindings.add(
          new PosixVolumeFinding(v, pod, podsOfVolume, objects.size(), bytes, orphans, guard));
    }
    return new PosixFindings(volumeFindings, objectFindings, index.unknown(), index);
  }

  private Optional<MemoryVolume> hostVolume(List<String> problems) {
    if (!Files.isDirectory(hostShm)) {
      return Optional.empty();
    }
    try {
      return kernel
          .statfs(hostShm)
          .filter(FsUsage::memoryBacked)
          .map(
              u ->
                  new MemoryVolume(
                      MemoryVolume.Kind.HostShm,
                      "host-dev-shm",
                      hostShm.toString(),
                      null,
                      u.sizeBytes(),
                      u.usedBytes()));
    } catch (KernelException e) {
      problems.add("cannot measure the host's /dev/shm " + hostShm + ": " + e.getMessage());
      return Optional.empty();
    }
  }

  /** Pod UIDs by the device of the /dev/shm their processes see. */
  private Map<Long, Set<String>> podsByShmDevice(Map<String, List<Integer>> podPids) {
    Map<Long, Set<String>> out = new HashMap<>();
    podPids.forEach(
        (uid, pids) -> {
          Set<Long> seen = new HashSet<>();
          for (int pid : pids) {
            Long dev = device(procRoot.resolve(Integer.toString(pid)).resolve("root/dev/shm"));
            if (dev != null && seen.add(dev)) {
              out.computeIfAbsent(dev, d -> new TreeSet<>()).add(uid);
            }
          }
        });
    return out;
  }

  private static int podsOfVolume(
      MemoryVolume v, Map<Long, Set<String>> podsByShmDevice, Long hostDevice) {
    if (v.podUid() == null) {
      return 0; // the host's /dev/shm, or a shared directory (an instance's, not one pod's)
    }
    if (v.kind() != MemoryVolume.Kind.DevShm) {
      return 1; // an emptyDir lies under its own pod's directory
    }
    Long dev = device(Path.of(v.path()));
    if (dev == null || dev.equals(hostDevice)) {
      return 0;
    }
    Set<String> seeing = new TreeSet<>(podsByShmDevice.getOrDefault(dev, Set.of()));
    seeing.add(v.podUid());
    return seeing.size();
  }

  private static Long device(Path p) {
    try {
      return (Long) Files.getAttribute(p, "unix:dev");
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /**
   * The guard's finding for a full pod volume whose pod has a container in back-off or restarted
   * within the grace period; null otherwise (and always for volumes of no pod, and when the API
   * server did not say).
   */
  private PosixVolumeFinding.CrashLoopGuard guard(
      MemoryVolume v, Policy policy, List<PosixObject> objects, FileUsersIndex index, Instant now) {
    if (v.podUid() == null || !PosixVolumeFinding.full(v)) {
      return null;
    }
    Optional<NodePod> pod = pods.nodePod(v.podUid());
    if (pod.isEmpty()) {
      return null;
    }
    List<String> backOff = pod.get().inBackOff();
    List<String> restarted = pod.get().restartedSince(now.minus(policy.grace()));
    if (backOff.isEmpty() && restarted.isEmpty()) {
      return null;
    }
    List<PosixVolumeFinding.GuardFile> files =
        objects.stream()
            .filter(o -> o.kind() == FileKind.Regular)
            .sorted(
                Comparator.comparingLong(PosixObject::allocatedBytes)
                    .reversed()
                    .thenComparing(PosixObject::name))
            .limit(PosixVolumeFinding.CrashLoopGuard.FILES)
            .map(
                o -> {
                  FileUsersIndex.Users u = index.users(o.id());
                  return new PosixVolumeFinding.GuardFile(
                      o.name(), o.allocatedBytes(), u == null ? null : !u.all().isEmpty());
                })
            .toList();
    return new PosixVolumeFinding.CrashLoopGuard(true, backOff, restarted, files);
  }
}
