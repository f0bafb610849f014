package dev.sharedipc.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.e2e.harness.Commands;
import dev.sharedipc.e2e.harness.E2EEnvironment;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What the real-node scenarios (*RealNodeE2E) do to pods in real containers: wait for them as a
 * kubelet runs them (seconds to minutes under TCG, not KWOK's instant), and run commands in them
 * with {@code kubectl exec}, as a user would.
 */
final class RealNodes {
  /** A pod on a TCG guest: sandbox, image unpack and container start take tens of seconds. */
  static final Duration START = Duration.ofMinutes(5);

  static final Duration POLL = Duration.ofSeconds(2);

  private final E2EEnvironment env;
  private final String namespace;

  RealNodes(E2EEnvironment env, String namespace) {
    this.env = env;
    this.namespace = namespace;
  }

  /** The pods of a group once each is Running and Ready on a real node, by name. */
  Map<String, Pod> awaitGroupRunning(String group, int pods) {
    List<String> realNodes = env.cluster().realNodeNames();
    Groups groups = new Groups(env.admin(), namespace);
    await(group + "'s " + pods + " pod(s) Running and Ready on a real node")
        .atMost(START)
        .pollInterval(POLL)
        .untilAsserted(
            () -> {
              Map<String, Pod> all = groups.pods(group);
              assertThat(all).as("pods of %s", group).hasSize(pods);
              for (Pod pod : all.values()) {
                assertThat(pod.getSpec().getNodeName())
                    .as("node of %s", pod.getMetadata().getName())
                    .isIn(realNodes);
                assertThat(Groups.isReady(pod))
                    .as("%s Ready", pod.getMetadata().getName())
                    .isTrue();
              }
            });
    return groups.pods(group);
  }

  /** {@code kubectl exec POD -c CONTAINER -- sh -c SCRIPT}; fails unless it exits 0. */
  String exec(String pod, String container, String script) {
    Commands.Result r = tryExec(pod, container, script);
    r.orThrow("kubectl exec " + pod + " -c " + container);
    return r.output();
  }

  /** As {@link #exec}, returning the result whatever the exit code. */
  Commands.Result tryExec(String pod, String container, String script) {
    List<String> args =
        new ArrayList<>(
            List.of("exec", "-n", namespace, pod, "-c", container, "--", "sh", "-c", script));
    return env.kubectl(args, Duration.ofMinutes(1));
  }

  /** The bytes of tmpfs (shmem) charged to a container's memory cgroup, read inside it. */
  long shmemCharged(String pod, String container) {
    String stat = exec(pod, container, "cat /sys/fs/cgroup/memory.stat");
    return stat.lines()
        .filter(l -> l.startsWith("shmem "))
        .mapToLong(l -> Long.parseLong(l.substring("shmem ".length()).strip()))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no shmem line in memory.stat of " + pod));
  }
}
