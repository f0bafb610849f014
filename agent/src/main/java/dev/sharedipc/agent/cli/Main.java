package dev.sharedipc.agent.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
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
  /** Read by {@link #logLevel} before picocli runs; declared here for parsing and --help. */
  @Option(
      names = {"-v", "--verbose"},
      scope = CommandLine.ScopeType.INHERIT,
      description =
          "Log every decision, including segments that are simply in use (same as SHAREDIPC_LOG_LEVEL=debug).")
  boolean verbose;

  public static void main(String[] args) {
    String level = logLevel(args, System.getenv("SHAREDIPC_LOG_LEVEL"));
    if (level != null) {
      System.setProperty(AGENT_LOG_LEVEL, level);
    }
    System.exit(run(args));
  }

  public static int run(String... args) {
    return commandLine().execute(args);
  }

  /**
   * The command line with its error handling: an error is one line naming the command, what is
   * wrong (the messages carry their hint; a misspelt option or command the closest valid one) and
   * where the options are, never the whole usage, which buried the one line that mattered. A
   * failure inside a command prints its stack trace only with -v.
   */
  static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
    cl.setParameterExceptionHandler(
        (e, args) -> {
          String guess = "";
          if (e instanceof CommandLine.UnmatchedArgumentException unmatched
              && !unmatched.getSuggestions().isEmpty()) {
            guess = " (did you mean " + unmatched.getSuggestions().get(0) + "?)";
          }
          error(e.getCommandLine(), e.getMessage() + guess);
          return e.getCommandLine().getCommandSpec().exitCodeOnInvalidInput();
        });
    cl.setExecutionExceptionHandler(
        (e, command, parsed) -> {
          error(command, e.getMessage() == null ? e.toString() : e.getMessage());
          if ("debug".equals(System.getProperty(AGENT_LOG_LEVEL))) {
            e.printStackTrace(command.getErr());
          }
          return command.getCommandSpec().exitCodeOnExecutionException();
        });
    return cl;
  }

  private static void error(CommandLine command, String message) {
    String name = command.getCommandSpec().qualifiedName();
    PrintWriter err = command.getErr();
    err.println(name + ": error: " + message + "; see '" + name + " --help'");
    err.flush();
  }

  /** The system property of slf4j-simple that sets the level of the agent's own loggers. */
  static final String AGENT_LOG_LEVEL = "org.slf4j.simpleLogger.log.dev.sharedipc";

  /**
   * The level of the agent's loggers: debug with -v or --verbose anywhere before "--", else the
   * environment's SHAREDIPC_LOG_LEVEL, else null (simplelogger.properties says info). It is read
   * from the arguments before picocli parses them because slf4j-simple fixes a logger's level when
   * the logger is made, and picocli makes the commands, with their loggers, first.
   */
  static String logLevel(String[] args, String environment) {
    for (String a : args) {
      if (a.equals("--")) {
        break;
      }
      if (a.equals("-v") || a.equals("--verbose")) {
        return "debug";
      }
    }
    return environment == null || environment.isBlank()
        ? null
        : environment.trim().toLowerCase(Locale.ROOT);
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
