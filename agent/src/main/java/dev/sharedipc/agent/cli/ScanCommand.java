package dev.sharedipc.agent.cli;

import dev.sharedipc.agent.attribution.PodDirectory;
import dev.sharedipc.agent.kernel.LinuxKernel;
import dev.sharedipc.agent.survey.Findings;
import dev.sharedipc.agent.verdict.PolicyResolver;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code scan}: one inventory pass, printed; changes nothing. */
@Command(
    name = "scan",
    mixinStandardHelpOptions = true,
    description = {
      "List, like ipcs -a across every IPC namespace on this host, every System V shared memory segment (with its pod, group and orphan verdict), semaphore set and message queue, every POSIX message queue that can be read, every memory-backed volume, and every POSIX shared-memory object (each file in pods' /dev/shm, memory emptyDirs, shared directories and the host's /dev/shm, with who has it open or mapped), each with its pod and group. Changes nothing. Semaphore sets and queues are never removed by 'reap': they have no attach count.",
      "",
      "Verdicts: InUse, OwnerAlive, WithinGrace, MarkedForRemoval, Unattributed, Ambiguous, Orphaned (kept by policy Report), Remove (what 'reap' with the same --policy and --grace would remove)."
    },
    footer = {
      "",
      "Examples:",
      "  sharedipc-agent scan",
      "  sharedipc-agent scan --json | jq '.segments[] | select(.verdict==\"Orphaned\")'",
      "  sharedipc-agent scan --kind semaphores,queues --group team/market-data",
      "  sharedipc-agent scan --json | jq '.posixObjects[] | select(.inUse==false)'"
    })
final class ScanCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin NodeOptions node;
  @Mixin PolicyOptions policy;

  @Option(names = "--json", description = "Print JSON (sizes in bytes) instead of tables.")
  boolean json;

  @Option(
      names = "--kind",
      paramLabel = "KIND",
      split = ",",
      description =
          "Show only these kinds (repeat or comma-separate): segments, semaphores, queues (System V and POSIX message "
              + "queues), volumes, posix (POSIX shared-memory objects). Default: all.")
  List<String> kinds;

  @Option(
      names = "--pod",
      paramLabel = "NS/NAME|UID",
      description = "Show only what belongs to this pod.")
  String pod;

  @Option(
      names = "--group",
      paramLabel = "NS/NAME",
      description = "Show only what belongs to this SharedIpcGroup.")
  String group;

  /**
   * CAP_SYS_PTRACE (19) opens other users' /proc/PID/ns/ipc; CAP_SYS_ADMIN (21) enters them with
   * setns.
   */
  private static final long NEEDED_CAPABILITIES = (1L << 19) | (1L << 21);

  @Override
  public Integer call() throws Exception {
    ScanFilter filter;
    try {
      filter = ScanFilter.of(kinds, pod, group);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    if (!hasCapabilities(Files.readString(Path.of("/proc/self/status")))) {
      // Without them every other namespace is unreadable: an empty table would claim there is
      // nothing.
      spec.commandLine()
          .getErr()
          .println(
              "sharedipc-agent scan: needs root (CAP_SYS_ADMIN and CAP_SYS_PTRACE) to read"
                  + " other processes' IPC namespaces; run it with sudo, or in the agent's pod:"
                  + " kubectl -n sharedipc-agent exec <agent-pod> -- sharedipc-agent scan");
      return 1;
    }
    Findings findings =
        node.surveyWhatCanBeRead(
                new LinuxKernel(),
                PodDirectory.OFFLINE,
                node.openLedger(),
                PolicyResolver.fixed(policy.policy()))
            .run();
    PrintWriter out = spec.commandLine().getOut();
    out.print(json ? Render.scanJson(findings, filter) : Render.scanTable(findings, filter));
    out.flush();
    if (!json) {
      Main.printProblems(spec.commandLine().getErr(), findings.problems());
    }
    return 0;
  }

  /** Whether the CapEff line of a /proc/PID/status text holds both capabilities scanning needs. */
  static boolean hasCapabilities(String procStatus) {
    return procStatus
        .lines()
        .filter(l -> l.startsWith("CapEff:"))
        .findFirst()
        .map(
            l ->
                (Long.parseUnsignedLong(l.substring("CapEff:".length()).trim(), 16)
                        & NEEDED_CAPABILITIES)
                    == NEEDED_CAPABILITIES)
        .orElse(false);
  }
}
