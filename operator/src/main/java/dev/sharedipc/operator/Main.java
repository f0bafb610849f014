package dev.sharedipc.operator;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import dev.sharedipc.operator.render.RenderCommand;
import dev.sharedipc.operator.runtime.OperatorRuntime;
import dev.sharedipc.operator.runtime.OperatorSettings;
import dev.sharedipc.operator.runtime.StartupFailure;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code sharedipc-operator}: with no subcommand, or {@code run}, the operator; {@code render}
 * prints what it would create for the groups in a file, with no cluster.
 */
@Command(
    name = "sharedipc-operator",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
      "Kubernetes operator for groups of processes that share memory (SharedIpcGroup, sharedipc.dev/v1alpha1).",
      "With no command it runs the operator, like 'run'."
    },
    subcommands = {Main.Run.class, RenderCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Callable<Integer> {
  @Mixin OperatorSettings settings;

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /**
   * The command line, with failures the user can fix ({@link StartupFailure}) printed as one line
   * and exit code 1 instead of a stack trace, and usage errors as one line and exit code 2 ({@link
   * #usageError}).
   */
  static CommandLine commandLine() {
    return new CommandLine(new Main())
        .setParameterExceptionHandler(Main::usageError)
        .setExecutionExceptionHandler(
            (e, cmd, parsed) -> {
              if (e instanceof StartupFailure) {
                cmd.getErr().println("sharedipc-operator: " + e.getMessage());
                return 1;
              }
              throw e;
            });
  }

  @Override
  public Integer call() throws Exception {
    return runOperator(settings);
  }

  /**
   * A misspelt option or command, a missing or bad value: one line with the problem, the closest
   * valid spelling picocli knows, and where help is; exit code 2, never the whole usage text.
   */
  static int usageError(CommandLine.ParameterException e, String[] args) {
    CommandLine cmd = e.getCommandLine();
    String name = cmd.getCommandSpec().qualifiedName();
    String guess = "";
    if (e instanceof CommandLine.UnmatchedArgumentException unmatched
        && !unmatched.getSuggestions().isEmpty()) {
      guess = " (did you mean " + unmatched.getSuggestions().get(0) + "?)";
    }
    cmd.getErr().println(name + ": " + e.getMessage() + guess + "; see '" + name + " --help'");
    return 2;
  }

  /** {@code run}: the same as no command, spelled out. */
  @Command(
      name = "run",
      mixinStandardHelpOptions = true,
      description =
          "Run the operator: reconcile SharedIpcGroups until stopped (SIGTERM or Ctrl-C).")
  static final class Run implements Callable<Integer> {
    @Mixin OperatorSettings settings;

    @Override
    public Integer call() throws Exception {
      return runOperator(settings);
    }
  }

  static int runOperator(OperatorSettings settings) throws Exception {
    setLogLevel(settings.logLevel);
    KubernetesClient client = client(settings);
    CountDownLatch stopped = new CountDownLatch(1);
    OperatorRuntime runtime = OperatorRuntime.start(settings, client);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  runtime.close();
                  client.close();
                  stopped.countDown();
                },
                "shutdown"));
    stopped.await();
    return 0;
  }

  private static KubernetesClient client(OperatorSettings settings) throws Exception {
    if (settings.kubeconfig == null || settings.kubeconfig.isBlank()) {
      return new KubernetesClientBuilder().build();
    }
    Config config = Config.fromKubeconfig(Files.readString(Path.of(settings.kubeconfig)));
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  static void setLogLevel(String level) {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    context.getLogger("dev.sharedipc").setLevel(Level.toLevel(level, Level.INFO));
  }

  /** Prints the jar's version. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = Main.class.getPackage().getImplementationVersion();
      return new String[] {
        "sharedipc-operator " + (version == null ? "(development build)" : version)
      };
    }
  }
}
