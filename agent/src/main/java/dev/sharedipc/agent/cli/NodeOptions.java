package dev.sharedipc.agent.cli;

import dev.sharedipc.agent.verdict.PolicyResolver;
import dev.sharedipc.agent.survey.Survey;
import dev.sharedipc.agent.attribution.Ledger;
import dev.sharedipc.agent.attribution.NodePods;
import dev.sharedipc.agent.attribution.PodDirectory;
import dev.sharedipc.agent.kernel.Kernel;
import dev.sharedipc.agent.kernel.LinuxKernel;
import dev.sharedipc.agent.reap.SharedDirReaper;
import dev.sharedipc.agent.scan.NamespaceCollector;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import picocli.CommandLine.Option;

/** Where the agent looks: options shared by scan, reap and serve. */
public final class NodeOptions {
  @Option(names = "--proc-root", paramLabel = "DIR", defaultValue = "/proc",
      description = "Proc tree to discover processes, IPC namespaces and pod cgroups from (default: ${DEFAULT-VALUE}). "
          + "Kernel reads always use the real /proc after joining each namespace; a fixture tree here maps namespaces to pods.")
  Path procRoot;

  @Option(names = "--kubelet-root", paramLabel = "DIR", defaultValue = "/var/lib/kubelet",
      description = "Kubelet state directory, for memory emptyDirs (default: ${DEFAULT-VALUE}).")
  Path kubeletRoot;

  @Option(names = "--shared-root", paramLabel = "DIR", defaultValue = "/dev/shm/sharedipc",
      description = "Where SameNode shared directories <namespace>_<group>_<index> live, as the operator's --node-shared-root "
          + "(default: ${DEFAULT-VALUE}).")
  Path sharedRoot;

  @Option(names = "--ledger", paramLabel = "FILE", defaultValue = "/var/lib/sharedipc/ledger.json",
      description = "Ledger of host-namespace segment creators (default: ${DEFAULT-VALUE}); 'none' keeps it in memory.")
  String ledger;

  Survey.Config surveyConfig() {
    long host = NamespaceCollector.nsInode(LinuxKernel.PROC.resolve("self/ns/ipc"));
    return new Survey.Config(procRoot, LinuxKernel.PROC, host, kubeletRoot, sharedRoot);
  }

  Ledger openLedger() {
    if (ledger == null || ledger.equals("none")) {
      return Ledger.inMemory();
    }
    Path path = Path.of(ledger);
    Path dir = path.toAbsolutePath().getParent();
    if (!Files.isWritable(dir) && !Files.exists(path) && !(dir.getParent() != null && Files.isWritable(dir.getParent()))) {
      // a CLI run without a state directory still works; host attributions are then not remembered
      return Ledger.inMemory();
    }
    return Ledger.open(path);
  }

  /** Looks for users of a directory under the discovery root and the real /proc: a user in either keeps it. */
  SharedDirReaper sharedDirReaper(NodePods pods, boolean dryRun) {
    return new SharedDirReaper(sharedRoot, List.of(procRoot, LinuxKernel.PROC), pods, dryRun, Clock.systemUTC());
  }

  Survey survey(Kernel kernel, PodDirectory pods, Ledger ledger, PolicyResolver policies) {
    return new Survey(surveyConfig(), kernel, pods, ledger, policies, Clock.systemUTC());
  }
}
