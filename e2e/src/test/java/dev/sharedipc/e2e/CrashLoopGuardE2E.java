package dev.sharedipc.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcNode;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus;
import dev.sharedipc.e2e.harness.E2EEnvironment;
import dev.sharedipc.e2e.harness.E2EExtension;
import dev.sharedipc.e2e.harness.TestNamespace;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The crash-loop guard end to end: a SamePod group's pod on a KWOK node whose /dev/shm is a real 1
 * MiB tmpfs (the fixture proc root maps a process of the pod whose {@code root} leads to a
 * directory holding that tmpfs as {@code dev/shm}), filled past 90% by files a crash left behind,
 * written just now (the grace period is an hour); the test writes the pod's container status as the
 * kubelet would (CrashLoopBackOff, not ready). The agent, a process for that node, reports the
 * guard; the operator makes the group {@code Ready=False} reason {@code SharedMemoryFull}; the pod
 * gets the Event {@code SharedMemoryFullInCrashLoop}. Under Delete, while a straggling process of
 * the crashed run still holds the files, they stay (the guard reports them open); once it exits the
 * files go at the next pass, without waiting for the grace period, and the member comes back (its
 * status Running and ready again) to a volume with room: the condition clears. Under Report the
 * files stay.
 *
 * <p>Under Delete the files go only if the agent can tell that no process on the host has them open
 * or mapped: a host process it may not read makes that unknown and keeps everything, as it must.
 * The harness therefore gives the agent a view of /proc without the processes root may not read
 * here (a sandbox's own init, {@link dev.sharedipc.agent.testing.ReadableProc#viewAt}); the
 * straggler is in it.
 */
@ExtendWith(E2EExtension.class)
@Order(1)
class CrashLoopGuardE2E {
  private static final String GROUP = "torch";
  private static final int FILE_BYTES = 240 * 1024;

  @TempDir Path tmp;
  private RealIpc ipc;
  private NodeAgent agent;
  private Path shm;
  private final List<Process> started = new ArrayList<>();

  @BeforeAll
  static void needsRoot() {
    RealIpc.requireRootAndTools();
  }

  @AfterEach
  void stopEverythingStarted() throws Exception {
    for (Process p : started) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    if (agent != null) {
      agent.close();
    }
    if (ipc != null) {
      ipc.close();
    }
    if (shm != null
        && Files.readString(Path.of("/proc/self/mountinfo"))
            .contains(" " + shm.toRealPath() + " ")) {
      run("umount", shm.toString());
    }
  }

  @Test
  void aMemberThatFilledItsDevShmAndCrashLoopsComesBackToRoomUnderDelete(
      E2EEnvironment env, TestNamespace ns) throws Exception {
    Groups groups = new Groups(env.admin(), ns.name());
    Pod pod = setUp(env, ns, groups, "Delete");
    List<Path> leaked = fill();
    // a process of the crashed run that has not exited yet holds the files: the guard reports,
    // nothing can go
    Process straggler =
        new ProcessBuilder(
                "sh",
                "-c",
                "exec 3<\"$0\" 4<\"$1\" 5<\"$2\" 6<\"$3\"; echo ready; exec sleep 600",
                leaked.get(0).toString(),
                leaked.get(1).toString(),
                leaked.get(2).toString(),
                leaked.get(3).toString())
            .redirectErrorStream(true)
            .start();
    started.add(straggler);
    assertThat(
            new java.io.BufferedReader(
                    new java.io.InputStreamReader(
                        straggler.getInputStream(), StandardCharsets.UTF_8))
                .readLine())
        .isEqualTo("ready");
    startAgent(env, ns, pod);
    try {
      awaitGuardReported(env, ns, groups, pod, "open or mapped");
      assertThat(Groups.condition(groups.get(GROUP), "Ready").getMessage())
          .contains("Under orphan policy Delete the node agent removes");
      assertThat(leaked)
          .as("open files are kept, guard or not")
          .allSatisfy(p -> assertThat(p).exists());
      // it exits: the next pass removes the files at once, though they were written well within the
      // grace period
      straggler.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      await("the crash's files reclaimed at once (agent log " + agent.log() + ")")
          .atMost(Groups.CONVERGE)
          .pollInterval(Groups.POLL)
          .untilAsserted(
              () -> {
                assertThat(leaked).allSatisfy(p -> assertThat(p).doesNotExist());
                assertThat(events(env, ns, "PosixObjectRemoved")).hasSize(leaked.size());
              });
      // the member restarts on a volume with room and stays up
      setContainer(env, ns, pod, false);
      await("the guard and the condition cleared")
          .atMost(Groups.CONVERGE)
          .pollInterval(Groups.POLL)
          .untilAsserted(
              () -> {
                Condition ready = Groups.condition(groups.get(GROUP), "Ready");
                assertThat(ready.getStatus()).as("Ready: %s", ready.getMessage()).isEqualTo("True");
                assertThat(devShm(env, pod).crashLoopGuard).isNull();
              });
    } catch (Exception | AssertionError e) {
      System.err.println(
          "[e2e] last lines of the agent's log " + agent.log() + ":\n" + agent.logTail(60));
      throw e;
    }
  }

  @Test
  void underReportTheGuardReportsAndRemovesNothing(E2EEnvironment env, TestNamespace ns)
      throws Exception {
    Groups groups = new Groups(env.admin(), ns.name());
    Pod pod = setUp(env, ns, groups, "Report");
    List<Path> leaked = fill();
    startAgent(env, ns, pod);
    try {
      awaitGuardReported(env, ns, groups, pod, "not open");
      assertThat(Groups.condition(groups.get(GROUP), "Ready").getMessage())
          .contains("Under orphan policy Report the agent removes nothing");
      long seen = agent.passes();
      assertThat(seen).as("the agent's passes so far (its /metrics)").isNotNegative();
      await("two more passes")
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Groups.POLL)
          .until(() -> agent.passes() >= seen + 2);
      assertThat(leaked).allSatisfy(p -> assertThat(p).exists());
      assertThat(events(env, ns, "PosixObjectRemoved")).isEmpty();
    } catch (Exception | AssertionError e) {
      System.err.println(
          "[e2e] last lines of the agent's log " + agent.log() + ":\n" + agent.logTail(60));
      throw e;
    }
  }

  /**
   * @param inUse how the Event describes the files' use where every process of the host can be read
   */
  private void awaitGuardReported(
      E2EEnvironment env, TestNamespace ns, Groups groups, Pod pod, String inUse) throws Exception {
    String use = inUse;
    await("the guard reported, the condition and the Event (agent log " + agent.log() + ")")
        .atMost(Groups.CONVERGE)
        .pollInterval(Groups.POLL)
        .untilAsserted(
            () -> {
              assertThat(agent.isAlive()).as("agent alive").isTrue();
              SharedIpcNodeStatus.VolumeReport v = devShm(env, pod);
              assertThat(v.crashLoopGuard).as("crashLoopGuard of %s", v.path).isNotNull();
              assertThat(v.crashLoopGuard.backOff).isTrue();
              assertThat(v.crashLoopGuard.containers).containsExactly("worker");
              Condition ready = Groups.condition(groups.get(GROUP), "Ready");
              assertThat(ready.getStatus()).isEqualTo("False");
              assertThat(ready.getReason())
                  .as("Ready: %s", ready.getMessage())
                  .isEqualTo("SharedMemoryFull");
              assertThat(ready.getMessage())
                  .contains(
                      "the /dev/shm of pod " + pod.getMetadata().getName(),
                      "CrashLoopBackOff",
                      "torch_0");
              assertThat(events(env, ns, "SharedMemoryFullInCrashLoop"))
                  .singleElement()
                  .satisfies(
                      e -> {
                        assertThat(e.getType()).isEqualTo("Warning");
                        assertThat(e.getInvolvedObject().getName())
                            .isEqualTo(pod.getMetadata().getName());
                        assertThat(e.getMessage())
                            .contains(
                                "worker in CrashLoopBackOff",
                                "torch_0 (" + FILE_BYTES + " bytes, " + use + ")");
                      });
            });
  }

  private Pod setUp(E2EEnvironment env, TestNamespace ns, Groups groups, String policy)
      throws Exception {
    String yaml =
        """
        apiVersion: sharedipc.dev/v1alpha1
        kind: SharedIpcGroup
        metadata:
          name: %s
        spec:
          replicas: 1
          placement: SamePod
          sharedMemory: {size: 1Mi, mountPath: /dev/shm}
          segments: {orphanPolicy: %s, orphanGracePeriod: 1h}
          members:
            - name: worker
              template:
                spec:
                  containers:
                    - name: worker
                      image: busybox:1.36
                      command: [sh, -c, "sleep infinity"]
        """
            .formatted(GROUP, policy);
    SharedIpcGroup group =
        groups.api().load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).item();
    group.getMetadata().setNamespace(ns.name());
    groups.api().inNamespace(ns.name()).resource(group).create();
    groups.awaitReady(GROUP, 1);
    Pod pod = groups.pods(GROUP).get(GROUP + "-0");

    shm = Files.createDirectories(tmp.resolve("pod-root/dev/shm"));
    run("mount", "-t", "tmpfs", "-o", "size=1m", "sharedipc-guard-e2e", shm.toString());
    ipc = new RealIpc(env.repo());
    RealIpc.Ns real = ipc.newNamespace();
    Path proc = tmp.resolve("proc");
    RealIpc.fixtureProcess(proc, real, pod.getMetadata().getUid());
    Files.createSymbolicLink(
        proc.resolve(Long.toString(real.pid())).resolve("root"), tmp.resolve("pod-root"));
    setContainer(env, ns, pod, true);
    return pod;
  }

  /**
   * The node's agent, started once the volume holds what the scenario needs (its first pass may act
   * at once).
   */
  private void startAgent(E2EEnvironment env, TestNamespace ns, Pod pod) throws Exception {
    agent =
        NodeAgent.start(
            env, pod.getSpec().getNodeName(), tmp.resolve("proc"), tmp.resolve("agent"), ns.name());
  }

  /** Four files of 240 KiB, 960 KiB of the 1 MiB /dev/shm, left by a crash just now. */
  private List<Path> fill() throws Exception {
    List<Path> out = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      out.add(Files.write(shm.resolve("torch_" + i), new byte[FILE_BYTES]));
    }
    return out;
  }

  /**
   * The pod's status as the kubelet writes it: the worker in back-off after its third crash, or
   * running and ready.
   */
  private static void setContainer(E2EEnvironment env, TestNamespace ns, Pod pod, boolean backOff) {
    Pod current =
        env.admin().pods().inNamespace(ns.name()).withName(pod.getMetadata().getName()).get();
    String now = Instant.now().toString();
    ContainerStatusBuilder c =
        new ContainerStatusBuilder()
            .withName("worker")
            .withImage("busybox:1.36")
            .withImageID("")
            .withReady(!backOff)
            .withRestartCount(3)
            .withNewLastState()
            .withNewTerminated()
            .withExitCode(135)
            .withReason("Error")
            .withFinishedAt(now)
            .endTerminated()
            .endLastState();
    c =
        backOff
            ? c.withNewState()
                .withNewWaiting()
                .withReason("CrashLoopBackOff")
                .endWaiting()
                .endState()
            : c.withNewState().withNewRunning().withStartedAt(now).endRunning().endState();
    String ready = backOff ? "False" : "True";
    current.getStatus().setPhase("Running");
    current.getStatus().setContainerStatuses(List.of(c.build()));
    current
        .getStatus()
        .setConditions(
            List.of(
                new PodConditionBuilder()
                    .withType("Ready")
                    .withStatus(ready)
                    .withLastTransitionTime(now)
                    .build(),
                new PodConditionBuilder()
                    .withType("ContainersReady")
                    .withStatus(ready)
                    .withLastTransitionTime(now)
                    .build(),
                new PodConditionBuilder()
                    .withType("Initialized")
                    .withStatus("True")
                    .withLastTransitionTime(now)
                    .build(),
                new PodConditionBuilder()
                    .withType("PodScheduled")
                    .withStatus("True")
                    .withLastTransitionTime(now)
                    .build()));
    env.admin().pods().inNamespace(ns.name()).resource(current).updateStatus();
  }

  private static SharedIpcNodeStatus node(E2EEnvironment env, Pod pod) {
    SharedIpcNode report =
        env.admin().resources(SharedIpcNode.class).withName(pod.getSpec().getNodeName()).get();
    assertThat(report).isNotNull();
    assertThat(report.getStatus()).isNotNull();
    return report.getStatus();
  }

  private static SharedIpcNodeStatus.VolumeReport devShm(E2EEnvironment env, Pod pod) {
    return node(env, pod).getMemoryVolumes().stream()
        .filter(v -> "DevShm".equals(v.kind) && pod.getMetadata().getUid().equals(v.podUid))
        .findFirst()
        .orElseThrow(
            () ->
                new AssertionError(
                    "no DevShm volume of pod "
                        + pod.getMetadata().getName()
                        + " in the node's report"));
  }

  private static List<Event> events(E2EEnvironment env, TestNamespace ns, String reason) {
    return env.admin().v1().events().inNamespace(ns.name()).list().getItems().stream()
        .filter(e -> reason.equals(e.getReason()))
        .toList();
  }

  private static void run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("%s: %s", List.of(cmd), out).isZero();
  }
}
