package dev.sharedipc.agent.cli;

import dev.sharedipc.agent.attribution.NodePods;
import dev.sharedipc.agent.attribution.PodDirectory;
import dev.sharedipc.agent.kernel.LinuxKernel;
import dev.sharedipc.agent.reap.Action;
import dev.sharedipc.agent.reap.Decision;
import dev.sharedipc.agent.reap.PosixObjectReaper;
import dev.sharedipc.agent.reap.Reaper;
import dev.sharedipc.agent.reap.SharedDirDecision;
import dev.sharedipc.agent.survey.Findings;
import dev.sharedipc.agent.verdict.PolicyResolver;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code reap}: one pass of the reaper. */
@Command(
    name = "reap",
    mixinStandardHelpOptions = true,
    description = {
      "One pass of the reaper: scan, judge every segment, and under --policy Delete remove the orphans. A segment is removed only when it is attributed to a pod, unattached, its creator and last operator are gone from its namespace, it has been unattached longer than --grace, and all of that still holds when checked again immediately before IPC_RMID. Anything else is kept. Prints every decision, then one per SameNode shared directory (without an API server the pods on the node are unknown, so those are only reported, never removed; 'serve' removes them), then one per POSIX shared-memory object (a file in a pod's /dev/shm or memory emptyDir: removed under Delete only when it is a regular file no process has open or mapped, not modified for --grace, and unchanged when checked again just before unlinking; the host's /dev/shm and shared directories are never touched).",
      "",
      "Actions: Removed, WouldRemove (--dry-run), Kept, Spared (changed between judgement and action), Failed. Exit status: 0, or 1 when a removal failed."
    },
    footer = {
      "",
      "Examples:",
      "  sharedipc-agent reap --dry-run --policy Delete --grace 30m",
      "  sharedipc-agent reap --policy Delete --grace 1h --json"
    })
final class ReapCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin NodeOptions node;
  @Mixin PolicyOptions policy;

  @Option(names = "--dry-run", description = "Decide and print, but remove nothing.")
  boolean dryRun;

  @Option(names = "--json", description = "Print JSON (sizes in bytes) instead of a table.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    LinuxKernel kernel = new LinuxKernel();
    Findings findings =
        node.survey(
                kernel,
                PodDirectory.OFFLINE,
                node.openLedger(),
                PolicyResolver.fixed(policy.policy()))
            .run();
    List<Decision> decisions =
        new Reaper(kernel, LinuxKernel.PROC, dryRun, d -> {})
            .reap(findings.segments(), findings.namespaces());
    // offline, the pods on the node are unknown, so shared directories are only reported, never
    // removed
    List<SharedDirDecision> dirs = node.sharedDirReaper(NodePods.OFFLINE, dryRun).reap();
    List<PosixObjectReaper.Decision> posix =
        node.posixObjectReaper(dryRun).reap(findings.posix(), Instant.now());
    PrintWriter out = spec.commandLine().getOut();
    out.print(
        json
            ? Render.reapJson(findings, decisions, dirs, posix, dryRun)
            : Render.reapTable(decisions)
                + "\n"
                + Render.sharedDirTable(dirs)
                + "\n"
                + Render.posixTable(findings.posix().objects(), posix));
    out.flush();
    if (!json) {
      Main.printProblems(spec.commandLine().getErr(), findings.problems());
    }
    return decisions.stream().anyMatch(d -> d.action() == Action.Failed)
            || dirs.stream().anyMatch(d -> d.action() == Action.Failed)
            || posix.stream().anyMatch(d -> d.action() == Action.Failed)
        ? 1
        : 0;
  }
}
