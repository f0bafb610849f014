package dev.sharedipc.agent.cli;

import ch.qos.logback.classic.Level;
import java.io.PrintWriter;
import java.util.List;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sharedipc-agent}: the node agent and its CLI. */
@Command(
    name = "sharedipc-agent",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    subcommands = {
      ScanCommand.class,
      ReapCommand.class,
      ServeCommand.class,
      CsiCommand.class,
      CommandLine.HelpCommand.class
    },
    description = {
      "A pod-aware inventory of System V shared memory and memory-backed volumes, and a reaper that never removes memory in use. Like lsipc, but it sees every IPC namespace on the host and knows which pod each belongs to. Needs root (CAP_SYS_ADMIN and CAP_SYS_PTRACE) to join other namespaces. Logs (one key=value line per decision) go to stderr; results go to stdout."
    },
    footer = {"", "Run 'sharedipc-agent COMMAND --help' for a command's options."})
public final class Main {
  @Option(
      names = {"-v", "--verbose"},
      scope = CommandLine.ScopeType.INHERIT,
      description = "Log every decision, including segments that are simply in use.")
  void verbose(boolean v) {
    if (v) {
      setLogLevel(Level.DEBUG);
    }
  }

  public static void main(String[] args) {
    System.exit(run(args));
  }

  public static int run(String... args) {
    return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
  }

  static void setLogLevel(Level level) {
    if (LoggerFactory.getLogger("dev.sharedipc") instanceof ch.qos.logback.classic.Logger l) {
      l.setLevel(level);
    }
  }

  static void printProblems(PrintWriter err, List<String> problems) {
    for (String p : problems) {
      err.println("warning: " + p);
    }
    err.flush();
  }

  /** The version from the jar manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"sharedipc-agent " + version()};
    }
  }

  public static String version() {
    String v = Main.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }
}
