package dev.sharedipc.agent.cli;

import dev.sharedipc.agent.attribution.Ledger;
import dev.sharedipc.agent.attribution.NodePods;
import dev.sharedipc.agent.attribution.PodDirectory;
import dev.sharedipc.agent.kernel.Kernel;
import dev.sharedipc.agent.kernel.LinuxKernel;
import dev.sharedipc.agent.reap.PosixObjectReaper;
import dev.sharedipc.agent.reap.SharedDirReaper;
import dev.sharedipc.agent.scan.NamespaceCollector;
import dev.sharedipc.agent.survey.Survey;
import dev.sharedipc.agent.verdict.PolicyResolver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** Where the agent looks: options shared by scan, reap and serve. */
public final class NodeOptions {
  @Spec(Spec.Target.MIXEE)
  CommandSpec command;

  @Option(
      names = "--proc-root",
      paramLabel = "DIR",
      defaultValue = "/proc",
      description =
          "Proc tree to discover processes, IPC namespaces and pod cgroups from (default: ${DEFAULT-VALUE}). "
              + "Kernel reads always use the real /proc after joining each namespace; a fixture tree here maps namespaces to pods.")
  Path procRoot;

  @Option(
      names = "--kubelet-root",
      paramLabel = "DIR",
      defaultValue = "/var/lib/kubelet",
      description = "Kubelet state directory, for memory emptyDirs (default: ${DEFAULT-VALUE}).")
  Path kubeletRoot;

  @Option(
      names = "--shared-root",
      paramLabel = "DIR",
      defaultValue = "/dev/shm/sharedipc",
      description =
          "Where SameNode shared directories <namespace>_<group>_<index> live, as the operator's --node-shared-root "
              + "(default: ${DEFAULT-VALUE}).")
  Path sharedRoot;

  @Option(
      names = "--ledger",
      paramLabel = "FILE",
      defaultValue = "/var/lib/sharedipc/ledger.json",
      description =
          "Ledger of host-namespace segment creators (default: ${DEFAULT-VALUE}); 'none' keeps it in memory.")
  String ledger;

  @Option(
      names = "--host-shm",
      paramLabel = "DIR",
      defaultValue = "/proc/1/root/dev/shm",
      description =
          "The host's /dev/shm, whose POSIX objects are listed and never removed (default: ${DEFAULT-VALUE}, the host's "
              + "init's view, which is the host's even from the agent's container); 'none' skips it.")
  String hostShm;

  @Option(
      names = "--users-proc-root",
      paramLabel = "DIR",
      defaultValue = "/proc",
      description =
          "Proc tree in which, besides --proc-root, processes with a file open or mapped are looked for before a POSIX "
              + "object or a shared directory may be removed (default: ${DEFAULT-VALUE}, every process of the host; a process there "
              + "that cannot be read keeps everything). Change it only to leave out processes known to hold no shared memory, such "
              + "as a test sandbox's own init.")
  Path usersProcRoot;

  @Option(
      names = "--csi-state-dir",
      paramLabel = "DIR",
      defaultValue = "/var/lib/kubelet/plugins/shm.sharedipc.dev/state",
      description =
          "The CSI driver's --state-dir, whose instance tmpfs mounts are inventoried as volumes of their SameNode instance "
              + "(usage, POSIX objects; nothing in them is ever removed) (default: ${DEFAULT-VALUE}, the DaemonSet's); 'none' skips it.")
  String csiStateDir;

  @Option(
      names = "--host-ipc-ns",
      paramLabel = "FILE",
      defaultValue = "/proc/1/ns/ipc",
      description =
          "The host's IPC namespace file (default: ${DEFAULT-VALUE}, the host's init's, seen through hostPID). Its "
              + "segments are listed as the host's; the agent's own namespace is never taken for it, so the agent needs no hostIPC.")
  Path hostIpcNs;

  /**
   * The host's IPC namespace inode, named by a process in it rather than taken from the agent's own
   * namespace: the agent runs without hostIPC and reaches the host's namespace with setns, as it
   * does each pod's. 0 when it cannot be read: {@link #hostIpcUnreadable} says why.
   */
  private long hostIpcInode() {
    return Math.max(0, NamespaceCollector.nsInode(hostIpcFile()));
  }

  /** Why the host's IPC namespace is unknown, and what to do about it. */
  private String hostIpcUnreadable() {
    return "cannot read the host's IPC namespace from "
        + hostIpcFile()
        + " (the agent needs the host's PID namespace and CAP_SYS_PTRACE to read /proc/1/ns/ipc; run it as root on"
        + " the host or in its DaemonSet, or name a process of the host's namespace with --host-ipc-ns"
        + " /proc/PID/ns/ipc)";
  }

  private Path hostIpcFile() {
    return hostIpcNs == null ? LinuxKernel.PROC.resolve("1/ns/ipc") : hostIpcNs;
  }

  private Survey.Config surveyConfig(long hostInode) {
    return new Survey.Config(
        procRoot,
        LinuxKernel.PROC,
        hostInode,
        kubeletRoot,
        sharedRoot,
        hostShm == null || hostShm.equals("none") ? null : Path.of(hostShm),
        usersProcRoot(),
        csiStateDir == null || csiStateDir.equals("none") ? null : Path.of(csiStateDir));
  }

  /**
   * Removes POSIX objects; a user under the discovery root or the users' proc tree keeps an object.
   */
  PosixObjectReaper posixObjectReaper(boolean dryRun) {
    return new PosixObjectReaper(List.of(procRoot, usersProcRoot()), dryRun);
  }

  private Path usersProcRoot() {
    return usersProcRoot == null ? LinuxKernel.PROC : usersProcRoot;
  }

  Ledger openLedger() {
    if (ledger == null || ledger.equals("none")) {
      return Ledger.inMemory();
    }
    Path path = Path.of(ledger);
    Path dir = path.toAbsolutePath().getParent();
    if (!Files.isWritable(dir)
        && !Files.exists(path)
        && !(dir.getParent() != null && Files.isWritable(dir.getParent()))) {
      // a CLI run without a state directory still works; host attributions are then not remembered
      return Ledger.inMemory();
    }
    return Ledger.open(path);
  }

  /**
   * Looks for users of a directory under the discovery root and the users' proc tree: a user in
   * either keeps it.
   */
  SharedDirReaper sharedDirReaper(NodePods pods, boolean dryRun) {
    return new SharedDirReaper(
        sharedRoot, List.of(procRoot, usersProcRoot()), pods, dryRun, Clock.systemUTC());
  }

  /**
   * The survey of reap and serve, which remove: without the host's IPC namespace they cannot tell
   * its segments from a pod's, so they refuse to start (a usage error of one line).
   */
  Survey survey(Kernel kernel, PodDirectory pods, Ledger ledger, PolicyResolver policies) {
    long host = hostIpcInode();
    if (host == 0) {
      if (command == null) {
        throw new IllegalArgumentException(hostIpcUnreadable());
      }
      throw new ParameterException(command.commandLine(), hostIpcUnreadable());
    }
    return new Survey(surveyConfig(host), kernel, pods, ledger, policies, Clock.systemUTC())
        .hostNamespaceFile(hostIpcFile());
  }

  /**
   * The survey of scan, which changes nothing: where the host's IPC namespace cannot be read
   * (sandboxes, containers without the host's PID namespace) it lists what it can, takes no
   * namespace for the host's, and says so under problems.
   */
  Survey surveyWhatCanBeRead(
      Kernel kernel, PodDirectory pods, Ledger ledger, PolicyResolver policies) {
    long host = hostIpcInode();
    Survey survey =
        new Survey(surveyConfig(host), kernel, pods, ledger, policies, Clock.systemUTC());
    return host == 0
        ? survey.hostNamespaceUnknown(
            hostIpcUnreadable() + "; scanned without it: no namespace is listed as the host's")
        : survey.hostNamespaceFile(hostIpcFile());
  }
}
