package dev.sharedipc.agent.bench;

import static dev.sharedipc.agent.bench.BenchArgs.intArg;
import static dev.sharedipc.agent.bench.BenchArgs.median;
import static dev.sharedipc.agent.bench.BenchArgs.strArg;

import dev.sharedipc.agent.attribution.Ledger;
import dev.sharedipc.agent.attribution.PodDirectory;
import dev.sharedipc.agent.kernel.LinuxKernel;
import dev.sharedipc.agent.kernel.NamespaceRef;
import dev.sharedipc.agent.kernel.Sysv;
import dev.sharedipc.agent.scan.IpcNamespace;
import dev.sharedipc.agent.scan.NamespaceCollector;
import dev.sharedipc.agent.survey.Findings;
import dev.sharedipc.agent.survey.Survey;
import dev.sharedipc.agent.verdict.Policy;
import dev.sharedipc.agent.verdict.PolicyResolver;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The scan benchmark (run by agent/bench/scan-bench.sh, never by the build): makes N segments
 * across M fresh IPC namespaces, then prints side by side the agent's warm full scan, the raw
 * kernel read ({@code /proc/sysvipc/shm} read in each namespace by one thread that joins each in
 * turn, no parsing), {@code ipcs -m} in each namespace, the ratios, and the peak resident memory of
 * a serving agent started through the launcher over those segments plus {@code --posix} POSIX
 * objects (files in a tmpfs directory it takes for the host's /dev/shm), beside that of Prometheus
 * node_exporter serving its metrics in the same run. Everything it makes dies with its namespaces
 * or is removed at the end.
 */
public final class ScanBenchmark {
  public static void main(String[] args) throws Exception {
    int namespaces = intArg(args, "--namespaces", 50);
    int segments = intArg(args, "--segments", 10_000);
    String launcher = strArg(args, "--launcher", "agent/bin/sharedipc-agent");
    int rounds = intArg(args, "--rounds", 15);
    int perNs = (segments + namespaces - 1) / namespaces;
    long shmmni =
        Long.parseLong(
            new String(LinuxKernel.readProcFile(Path.of("/proc/sys/kernel/shmmni"))).trim());
    if (shmmni < perNs) {
      System.err.println(
          "kernel.shmmni="
              + shmmni
              + " < "
              + perNs
              + " segments per namespace: raise it or use more namespaces");
      System.exit(2);
    }
    List<Process> holders = new ArrayList<>();
    Process serve = null;
    Process exporter = null;
    Path posixDir = null;
    int posix = intArg(args, "--posix", 10_000);
    try {
      System.out.printf(
          "setup: %d segments of 4 KiB across %d namespaces (%d each; kernel.shmmni=%d)%n",
          segments, namespaces, perNs, shmmni);
      LinuxKernel kernel = new LinuxKernel();
      long hostNs = NamespaceCollector.nsInode(Path.of("/proc/self/ns/ipc"));
      int made = 0;
      for (int i = 0; i < namespaces; i++) {
        Process p = new ProcessBuilder("unshare", "--ipc", "sleep", "3600").start();
        holders.add(p);
        Path nsFile = Path.of("/proc/" + p.pid() + "/ns/ipc");
        long inode = -1;
        for (int tries = 0; tries < 500 && (inode <= 0 || inode == hostNs); tries++) {
          Thread.sleep(5);
          inode = NamespaceCollector.nsInode(nsFile);
        }
        int count = Math.min(perNs, segments - made);
        kernel.inIpcNamespace(
            new NamespaceRef(inode, List.of(nsFile)),
            s -> {
              for (int k = 0; k < count; k++) {
                Sysv.create(0x5eed0000 + k, 4096, 0600);
              }
              return null;
            });
        made += count;
      }

      Survey survey =
          new Survey(
              new Survey.Config(
                  Path.of("/proc"),
                  LinuxKernel.PROC,
                  hostNs,
                  Path.of("/var/lib/kubelet"),
                  Path.of("/dev/shm/sharedipc")),
              kernel,
              PodDirectory.OFFLINE,
              Ledger.inMemory(),
              PolicyResolver.fixed(Policy.UNKNOWN),
              Clock.systemUTC());
      Findings first = survey.run();
      System.out.printf(
          "agent sees %d namespaces, %d segments (the node's own included)%n",
          first.namespaces().size(), first.segments().size());
      List<IpcNamespace> all = new NamespaceCollector(Path.of("/proc"), hostNs).collect();

      for (int i = 0; i < 5; i++) {
        survey.run();
        rawRead(kernel, all);
      }
      long[] agent = new long[rounds];
      long[] raw = new long[rounds];
      long rawBytes = 0;
      for (int i = 0; i < rounds; i++) {
        long t0 = System.nanoTime();
        survey.run();
        agent[i] = System.nanoTime() - t0;
        t0 = System.nanoTime();
        rawBytes = rawRead(kernel, all);
        raw[i] = System.nanoTime() - t0;
      }
      long[] ipcs = new long[3];
      for (int i = 0; i < ipcs.length; i++) {
        long t0 = System.nanoTime();
        for (IpcNamespace ns : all) {
          Process p =
              new ProcessBuilder("nsenter", "--ipc=" + ns.nsFiles().get(0), "ipcs", "-m")
                  .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                  .redirectErrorStream(true)
                  .start();
          p.waitFor(30, TimeUnit.SECONDS);
        }
        ipcs[i] = System.nanoTime() - t0;
      }
      double agentMs = median(agent) / 1e6;
      double rawMs = median(raw) / 1e6;
      double ipcsMs = median(ipcs) / 1e6;
      System.out.println();
      System.out.printf(
          "%-52s %10s %14s%n",
          "full read of " + all.size() + " namespaces, " + first.segments().size() + " segments",
          "median ms",
          "x raw read");
      System.out.printf(
          "%-52s %10.1f %14.2f%n",
          "raw kernel read (/proc/sysvipc/shm, " + rawBytes / 1024 + " KiB)", rawMs, 1.0);
      System.out.printf(
          "%-52s %10.1f %14.2f%n",
          "agent warm full scan (discover+read+attribute+judge)", agentMs, agentMs / rawMs);
      System.out.printf(
          "%-52s %10.1f %14.2f%n",
          "ipcs -m in each namespace (nsenter, one process each)", ipcsMs, ipcsMs / rawMs);
      System.out.printf(
          "target: agent within 1.3x the raw read -> %s%n",
          agentMs <= 1.3 * rawMs ? "MET" : "NOT MET");

      if (launcher != null && !launcher.equals("none") && Files.isExecutable(Path.of(launcher))) {
        // POSIX objects in a directory the serving agent takes for the host's /dev/shm (tmpfs,
        // removed at the end)
        posixDir =
            Files.createDirectories(
                Path.of("/dev/shm/sharedipc-scan-bench-" + ProcessHandle.current().pid()));
        byte[] page = new byte[4096];
        for (int i = 0; i < posix; i++) {
          Files.write(posixDir.resolve("bench." + i), page);
        }
        int port = 19464;
        // with --kubeconfig, the agent serves as deployed: its informers, reports and Events on
        // that API server (a local control plane: README.md, "Benchmarks"); else offline
        String kubeconfig = strArg(args, "--kubeconfig", null);
        List<String> apiServer =
            kubeconfig == null
                ? List.of("--offline")
                : List.of(
                    "--kubeconfig",
                    kubeconfig,
                    "--node-name",
                    strArg(args, "--node-name", "kwok-node-0"));
        List<String> command = new ArrayList<>(List.of(launcher, "serve"));
        command.addAll(apiServer);
        command.addAll(
            List.of(
                "--interval",
                "2s",
                "--listen",
                "127.0.0.1:" + port,
                "--ledger",
                "none",
                "--host-shm",
                posixDir.toString(),
                // the benchmark's namespace is the host's here; /proc/1 may be unreadable in a
                // sandbox
                "--host-ipc-ns",
                "/proc/self/ns/ipc"));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().remove("SHAREDIPC_AGENT_MAIN"); // the daemon, not another benchmark
        serve =
            pb.redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        Path exporterBin =
            Path.of(strArg(args, "--node-exporter", "/usr/bin/prometheus-node-exporter"));
        int exporterPort = 19100;
        if (Files.isExecutable(exporterBin)) {
          exporter =
              new ProcessBuilder(
                      exporterBin.toString(), "--web.listen-address=127.0.0.1:" + exporterPort)
                  .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                  .redirectError(ProcessBuilder.Redirect.DISCARD)
                  .start();
        }
        long peak = 0;
        long exporterPeak = 0;
        for (int i = 0; i < 30; i++) {
          Thread.sleep(1000);
          peak = Math.max(peak, rssKib(serve.pid()));
          if (exporter != null) {
            exporterPeak = Math.max(exporterPeak, rssKib(exporter.pid()));
          }
          if (i % 5 == 4) {
            scrape(port);
            if (exporter != null) {
              scrape(exporterPort);
            }
          }
        }
        System.out.printf(
            "serving agent (%s serve %s, 15 passes over %d segments and %d POSIX objects, /metrics scraped): peak RSS %.1f MiB "
                + "(target <= 48 MiB -> %s)%n",
            launcher,
            kubeconfig == null ? "--offline" : "with the API server of " + kubeconfig,
            first.segments().size(),
            posix,
            peak / 1024.0,
            peak <= 48 * 1024 ? "MET" : "NOT MET");
        // the floor under the agent's figure: the same JVM and settings running nothing
        ProcessBuilder idle = new ProcessBuilder(launcher);
        idle.environment().put("SHAREDIPC_AGENT_MAIN", JvmFloor.class.getName());
        Process floor =
            idle.redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        long floorPeak = 0;
        for (int i = 0; i < 6 && floor.isAlive(); i++) {
          Thread.sleep(1000);
          floorPeak = Math.max(floorPeak, rssKib(floor.pid()));
        }
        floor.destroy();
        floor.waitFor(10, TimeUnit.SECONDS);
        System.out.printf(
            "the same JVM and settings running an empty main (%s with SHAREDIPC_AGENT_MAIN=%s): peak RSS %.1f MiB%n",
            launcher, JvmFloor.class.getName(), floorPeak / 1024.0);
        if (exporter != null) {
          System.out.printf(
              "node_exporter (%s, default collectors, /metrics scraped alike): peak RSS %.1f MiB; agent/node_exporter %.2fx%n",
              exporterBin,
              exporterPeak / 1024.0,
              exporterPeak == 0 ? 0.0 : (double) peak / exporterPeak);
        } else {
          System.out.println(
              "node_exporter: not measured ("
                  + exporterBin
                  + " not installed; apt-get install -y prometheus-node-exporter)");
        }
      }
    } finally {
      if (serve != null) {
        serve.destroy();
        serve.waitFor(10, TimeUnit.SECONDS);
        serve.destroyForcibly();
      }
      if (exporter != null) {
        exporter.destroy();
        exporter.waitFor(10, TimeUnit.SECONDS);
      }
      if (posixDir != null) {
        try (var files = Files.list(posixDir)) {
          for (Path f : (Iterable<Path>) files::iterator) {
            Files.delete(f);
          }
        }
        Files.delete(posixDir);
      }
      for (Process p : holders) {
        p.destroyForcibly();
      }
      for (Process p : holders) {
        p.waitFor(10, TimeUnit.SECONDS);
      }
      System.out.println("cleanup: " + holders.size() + " namespaces and their segments are gone");
    }
  }

  /** The floor: one thread joins each namespace in turn and reads /proc/sysvipc/shm into memory. */
  private static long rawRead(LinuxKernel kernel, List<IpcNamespace> all) throws Exception {
    long[] total = new long[1];
    Thread t =
        new Thread(
            () -> {
              try {
                for (IpcNamespace ns : all) {
                  try {
                    dev.sharedipc.agent.kernel.RawNamespace.join(ns.nsFiles().get(0));
                  } catch (dev.sharedipc.agent.kernel.KernelException gone) {
                    continue; // a process that is not ours exited: the agent skips it too
                  }
                  total[0] += LinuxKernel.readProcFile(Path.of("/proc/sysvipc/shm")).length;
                }
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            },
            "raw-read");
    t.start();
    t.join();
    return total[0];
  }

  private static void scrape(int port) {
    try {
      HttpURLConnection c =
          (HttpURLConnection)
              URI.create("http://127.0.0.1:" + port + "/metrics").toURL().openConnection();
      c.getInputStream().readAllBytes();
      c.disconnect();
    } catch (IOException e) {
      // not up yet
    }
  }

  private static long rssKib(long pid) throws IOException {
    // the launcher execs java, so the pid is the JVM's
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return 0;
  }

  /**
   * A main that only waits: run through the launcher, it shows what the JVM with the agent's
   * settings holds before the agent does anything.
   */
  public static final class JvmFloor {
    public static void main(String[] args) throws InterruptedException {
      Thread.sleep(30_000);
    }

    private JvmFloor() {}
  }

  private ScanBenchmark() {}
}
