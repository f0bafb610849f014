package dev.sharedipc.agent.cli;

import dev.sharedipc.agent.survey.Findings;
import dev.sharedipc.agent.verdict.PolicyResolver;
import dev.sharedipc.agent.attribution.PodDirectory;
import dev.sharedipc.agent.kernel.LinuxKernel;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code scan}: one inventory pass, printed; changes nothing. */
@Command(name = "scan", mixinStandardHelpOptions = true,
    description = {
        "List every System V shared memory segment in every IPC namespace on this host, with its pod, group and orphan verdict, then every memory-backed volume, then every POSIX shared-memory object (each file in pods' /dev/shm, memory emptyDirs, shared directories and the host's /dev/shm, with who has it open or mapped). Changes nothing.",
        "",
        "Verdicts: InUse, OwnerAlive, WithinGrace, MarkedForRemoval, Unattributed, Ambiguous, Orphaned (kept by policy Report), Remove (what 'reap' with the same --policy and --grace would remove)."},
    footer = {"", "Examples:", "  sharedipc-agent scan", "  sharedipc-agent scan --json | jq '.segments[] | select(.verdict==\"Orphaned\")'",
        "  sharedipc-agent scan --json | jq '.posixObjects[] | select(.inUse==false)'"})
final class ScanCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin NodeOptions node;
  @Mixin PolicyOptions policy;
  @Option(names = "--json", description = "Print JSON (sizes in bytes) instead of tables.") boolean json;

  @Override
  public Integer call() throws Exception {
    Findings findings = node.survey(new LinuxKernel(), PodDirectory.OFFLINE, node.openLedger(),
        PolicyResolver.fixed(policy.policy())).run();
    PrintWriter out = spec.commandLine().getOut();
    out.print(json ? Render.scanJson(findings) : Render.scanTable(findings));
    out.flush();
    if (!json) {
      Main.printProblems(spec.commandLine().getErr(), findings.problems());
    }
    return 0;
  }
}
