package dev.sharedipc.agent.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.agent.attribution.Ledger;
import dev.sharedipc.agent.kernel.LinuxKernel;
import dev.sharedipc.agent.reap.PosixObjectReaper;
import dev.sharedipc.agent.reap.Reaper;
import dev.sharedipc.agent.scan.NamespaceCollector;
import dev.sharedipc.agent.survey.Survey;
import dev.sharedipc.agent.testing.ProcFixture;
import dev.sharedipc.agent.testing.ReadableProc;
import dev.sharedipc.agent.testing.RealNamespaces;
import dev.sharedipc.agent.testing.RealNamespaces.Ns;
import dev.sharedipc.agent.testing.Root;
import dev.sharedipc.api.Labels;
import dev.sharedipc.api.testing.RealApiServer;
import dev.sharedipc.api.v1alpha1.EffectiveOrphanPolicy;
import dev.sharedipc.api.v1alpha1.OrphanPolicy;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcGroupStatus;
import dev.sharedipc.api.v1alpha1.SharedIpcNode;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus.VolumeReport;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The crash-loop guard on a real API server and the real kernel: a pod's /dev/shm is a real 1 MiB
 * tmpfs (the fixture proc root maps a real process of the pod, whose {@code root} leads to a
 * directory holding that tmpfs as {@code dev/shm}), filled past 90% by files a crash left behind,
 * all written just now (well within the one-hour grace period), and one file a live process holds
 * open. With a container of the pod in CrashLoopBackOff (its status written as the kubelet would),
 * one serve pass reports the guard in the SharedIpcNode, files a Warning Event on the pod and,
 * under the published policy Delete, removes the unused files at once and keeps the open one; under
 * Report it removes nothing. Once the back-off clears, the guard is off.
 */
class CrashLoopGuardIT {
  @TempDir Path tmp;
  RealNamespaces real;
  RealApiServer api;

  /** The agent's own client of the test's API server, as the agent would connect. */
  dev.sharedipc.agent.kube.KubeApi kube() {
    return dev.sharedipc.agent.testing.AgentClients.of(api);
  }

  String namespace;
  String nodeName;
  KubernetesClient client;
  ClusterView view;
  NodeReporter reporter;
  Path shm;
  Path proc;
  final List<Process> started = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    Root.require();
    Root.requireTool("mount");
    Root.requireTool("umount");
    real = new RealNamespaces();
    api = RealApiServer.shared();
    namespace = api.newNamespace("guard");
    nodeName = "node-" + namespace;
    client = api.newClient();
    shm = Files.createDirectories(tmp.resolve("pod-root/dev/shm"));
    run("mount", "-t", "tmpfs", "-o", "size=1m", "sharedipc-guard-it", shm.toString());
    proc = Files.createDirectory(tmp.resolve("proc"));
  }

  @AfterEach
  void tearDown() throws Exception {
    for (Process p : started) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
    if (reporter != null) {
      reporter.close();
    }
    if (view != null) {
      view.close();
    }
    if (client != null) {
      client.close();
    }
    if (real != null) {
      real.close();
    }
    if (shm != null
        && Files.readString(Path.of("/proc/self/mountinfo"))
            .contains(" " + shm.toRealPath() + " ")) {
      run("umount", shm.toString());
    }
  }

  @Test
  void underDeleteAFullDevShmOfAPodInBackOffIsReclaimedAtOnceAndReported() throws Exception {
    Pod pod = setUpPod("feed", OrphanPolicy.Delete);
    List<Path> leaked = fill();
    Path held = Files.write(shm.resolve("PostgreSQL.1804289383"), new byte[16 * 1024]);
    hold(held);
    Metrics metrics = new Metrics();
    Daemon daemon = daemon(metrics);

    daemon.pass();

    assertThat(leaked)
        .as("the crash's leftovers go without waiting for the grace period")
        .allSatisfy(p -> assertThat(p).doesNotExist());
    assertThat(held).as("a file a process holds open stays").exists();
    VolumeReport v = devShmReport();
    assertThat(v.podName).isEqualTo("feed-0");
    assertThat(v.group).isEqualTo("feed");
    assertThat(v.crashLoopGuard).isNotNull();
    assertThat(v.crashLoopGuard.full).isTrue();
    assertThat(v.crashLoopGuard.backOff).isTrue();
    assertThat(v.crashLoopGuard.containers).containsExactly("writer");
    assertThat(v.crashLoopGuard.files)
        .anySatisfy(
            f -> {
              assertThat(f.name).isEqualTo("PostgreSQL.1804289383");
              assertThat(f.inUse).isTrue();
            })
        .anySatisfy(
            f -> {
              assertThat(f.name).isEqualTo("torch_0");
              assertThat(f.inUse).isFalse();
              assertThat(f.bytes).isEqualTo(240 * 1024);
            });
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(client.v1().events().inNamespace(namespace).list().getItems())
                    .anySatisfy(
                        e -> {
                          assertThat(e.getReason()).isEqualTo("SharedMemoryFullInCrashLoop");
                          assertThat(e.getType()).isEqualTo("Warning");
                          assertThat(e.getInvolvedObject().getName()).isEqualTo("feed-0");
                          assertThat(e.getMessage())
                              .contains(
                                  "writer in CrashLoopBackOff",
                                  "torch_0 (245760 bytes, not open)",
                                  "PostgreSQL.1804289383 (16384 bytes, open or mapped)");
                        })
                    .filteredOn(e -> e.getReason().equals("PosixObjectRemoved"))
                    .hasSize(leaked.size())
                    .allSatisfy(
                        e -> assertThat(e.getInvolvedObject().getName()).isEqualTo("feed-0")));
    String scrape = metrics.scrape();
    assertThat(scrape)
        .contains(
            "sharedipc_posix_objects_removed_total{group=\""
                + namespace
                + "/feed\"} "
                + leaked.size()
                + ".0");
    SharedIpcNodeStatus node =
        client.resources(SharedIpcNode.class).withName(nodeName).get().getStatus();
    assertThat(node.getPosixObjectsRemovedByGroup())
        .as("the node report counts the removals beside the segments'")
        .containsExactly(Map.entry(namespace + "/feed", (long) leaked.size()));
    assertThat(node.getPosixObjectsRemovedInOtherGroups()).isNull();
    assertThat(scrape).contains("sharedipc_crash_loop_guard_volumes{back_off=\"true\"} 1.0");

    // the back-off clears and the container ran long ago: the guard is off, the open file still
    // kept
    setStatus(pod, false);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                view.nodePod(pod.getMetadata().getUid())
                    .map(p -> p.inBackOff().isEmpty())
                    .orElse(false));
    daemon.pass();
    assertThat(devShmReport().crashLoopGuard).isNull();
    assertThat(held).exists();
  }

  @Test
  void underReportTheGuardReportsAndChangesNothing() throws Exception {
    setUpPod("keep", OrphanPolicy.Report);
    List<Path> leaked = fill();
    Daemon daemon = daemon(new Metrics());

    daemon.pass();

    assertThat(leaked).allSatisfy(p -> assertThat(p).exists());
    VolumeReport v = devShmReport();
    assertThat(v.crashLoopGuard).isNotNull();
    assertThat(v.crashLoopGuard.backOff).isTrue();
    assertThat(v.orphanObjects).isEqualTo(leaked.size());
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(client.v1().events().inNamespace(namespace).list().getItems())
                    .anySatisfy(
                        e -> {
                          assertThat(e.getReason()).isEqualTo("SharedMemoryFullInCrashLoop");
                          assertThat(e.getMessage()).contains("under Report it changes nothing");
                        })
                    .noneSatisfy(e -> assertThat(e.getReason()).isEqualTo("PosixObjectRemoved")));
  }

  /**
   * Group, node and pod in the API server, the pod's container in back-off, its process in the
   * fixture proc root.
   */
  private Pod setUpPod(String group, OrphanPolicy published) throws Exception {
    SharedIpcGroup g =
        client
            .resources(SharedIpcGroup.class)
            .inNamespace(namespace)
            .load(
                new ByteArrayInputStream(
                    ("""
        apiVersion: sharedipc.dev/v1alpha1
        kind: SharedIpcGroup
        metadata: {name: %s}
        spec:
          sharedMemory: {size: 64Mi}
          members:
            - name: writer
              template: {spec: {containers: [{name: writer, image: busybox:1.36}]}}
        """
                            .formatted(group))
                        .getBytes(StandardCharsets.UTF_8)))
            .create();
    SharedIpcGroupStatus status = new SharedIpcGroupStatus();
    status.setEffectiveOrphanPolicy(
        new EffectiveOrphanPolicy(published, "1h", "published by the test"));
    g.setStatus(status);
    client.resource(g).updateStatus();
    client
        .nodes()
        .resource(new NodeBuilder().withNewMetadata().withName(nodeName).endMetadata().build())
        .create();
    Pod pod =
        client
            .pods()
            .inNamespace(namespace)
            .resource(
                new PodBuilder()
                    .withNewMetadata()
                    .withName(group + "-0")
                    .withLabels(Map.of(Labels.GROUP, group, Labels.INSTANCE, "0"))
                    .endMetadata()
                    .withNewSpec()
                    .withNodeName(nodeName)
                    .addNewContainer()
                    .withName("writer")
                    .withImage("busybox:1.36")
                    .endContainer()
                    .endSpec()
                    .build())
            .create();
    setStatus(pod, true);
    Ns ns = real.newNamespace();
    new ProcFixture(proc)
        .realNamespace((int) ns.pid(), ns.pid(), ProcFixture.podCgroup(pod.getMetadata().getUid()));
    Files.createSymbolicLink(
        proc.resolve(Long.toString(ns.pid())).resolve("root"), tmp.resolve("pod-root"));

    view = new ClusterView(kube(), nodeName).start();
    reporter = new NodeReporter(kube(), nodeName, false, Duration.ofSeconds(10));
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () ->
                view.nodePod(pod.getMetadata().getUid())
                        .map(p -> !p.inBackOff().isEmpty())
                        .orElse(false)
                    && view.orphanGrace(namespace, group).isPresent()
                    && view.policyFor(
                                new dev.sharedipc.agent.attribution.Attribution(
                                    dev.sharedipc.agent.attribution.Attribution.Source
                                        .POD_NAMESPACE,
                                    pod.getMetadata().getUid(),
                                    view.byUid(pod.getMetadata().getUid()).get(),
                                    ""))
                            .orphanPolicy()
                        == published);
    return pod;
  }

  /**
   * The container's status as the kubelet writes it: in back-off after a crash a few seconds ago,
   * or running for a day.
   */
  private void setStatus(Pod pod, boolean backOff) {
    Pod current = client.pods().inNamespace(namespace).withName(pod.getMetadata().getName()).get();
    ContainerStatusBuilder c =
        new ContainerStatusBuilder()
            .withName("writer")
            .withImage("busybox:1.36")
            .withImageID("")
            .withReady(!backOff)
            .withRestartCount(3)
            .withNewLastState()
            .withNewTerminated()
            .withExitCode(135)
            .withReason("Error")
            .withFinishedAt(
                Instant.now()
                    .minus(backOff ? Duration.ofSeconds(5) : Duration.ofDays(1))
                    .toString())
            .endTerminated()
            .endLastState();
    if (backOff) {
      c.withNewState()
          .withNewWaiting()
          .withReason("CrashLoopBackOff")
          .withMessage("back-off 40s restarting failed container")
          .endWaiting()
          .endState();
    } else {
      c.withNewState()
          .withNewRunning()
          .withStartedAt(Instant.now().minus(Duration.ofDays(1)).toString())
          .endRunning()
          .endState();
    }
    current.setStatus(
        new io.fabric8.kubernetes.api.model.PodStatusBuilder()
            .withPhase("Running")
            .withContainerStatuses(c.build())
            .build());
    client.pods().inNamespace(namespace).resource(current).updateStatus();
  }

  /** Four files of 240 KiB: 960 KiB of the 1 MiB volume, left by a crash just now. */
  private List<Path> fill() throws Exception {
    List<Path> out = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      out.add(Files.write(shm.resolve("torch_" + i), new byte[240 * 1024]));
    }
    return out;
  }

  private Daemon daemon(Metrics metrics) throws Exception {
    // the users of files are read under the fixture and a view of the real /proc without the
    // processes this sandbox hides
    Path readable = ReadableProc.view(tmp);
    Survey.Config config =
        new Survey.Config(
            proc,
            readable,
            NamespaceCollector.nsInode(Path.of("/proc/self/ns/ipc")),
            tmp.resolve("none"),
            tmp.resolve("none"),
            null);
    LinuxKernel kernel = new LinuxKernel();
    Survey survey = new Survey(config, kernel, view, Ledger.inMemory(), view, Clock.systemUTC());
    return new Daemon(
            survey,
            new Reaper(kernel, LinuxKernel.PROC, false, d -> {}),
            metrics,
            new NodeStatusBuilder("it"),
            reporter,
            Duration.ofSeconds(30))
        .posixObjects(new PosixObjectReaper(List.of(proc, readable), false));
  }

  private VolumeReport devShmReport() {
    SharedIpcNode report = client.resources(SharedIpcNode.class).withName(nodeName).get();
    return report.getStatus().getMemoryVolumes().stream()
        .filter(v -> "DevShm".equals(v.kind))
        .findFirst()
        .orElseThrow();
  }

  private void hold(Path file) throws Exception {
    Process p =
        new ProcessBuilder("sh", "-c", "exec 3<\"$0\"; echo ready; exec sleep 600", file.toString())
            .redirectErrorStream(true)
            .start();
    started.add(p);
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    assertThat(out.readLine()).isEqualTo("ready");
  }

  private static void run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("%s: %s", List.of(cmd), out).isZero();
  }
}
