package dev.sharedipc.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.e2e.harness.Commands;
import dev.sharedipc.e2e.harness.E2EEnvironment;
import dev.sharedipc.e2e.harness.E2EExtension;
import dev.sharedipc.e2e.harness.TestNamespace;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A SamePod group on a real node, where the pains the project exists for happen: members in real
 * containers share one IPC namespace and one memory-backed /dev/shm of the declared size (not the
 * runtime's 64 MiB), its pages are charged to the member the group names, and a writer that fills
 * it gets ENOSPC rather than an OOM kill.
 */
@ExtendWith(E2EExtension.class)
class SamePodRealNodeE2E {
  private static final long SIZE_MIB = 96;

  /** The writer's own limit before the operator adds the shared memory to it (accountTo). */
  private static final long WRITER_LIMIT_MIB = 32;

  private static final Pattern SEGMENT_ID = Pattern.compile("Shared memory id: (\\d+)");

  @Test
  void membersShareSegmentsAndADevShmOfTheDeclaredSizeChargedToTheWriter(
      E2EEnvironment env, TestNamespace ns) {
    Groups groups = new Groups(env.admin(), ns.name());
    RealNodes real = new RealNodes(env, ns.name());
    groups.create(group("ticks"));
    groups.create(group("other"));
    Pod ticks = real.awaitGroupRunning("ticks", 1).values().iterator().next();
    Pod other = real.awaitGroupRunning("other", 1).values().iterator().next();
    String pod = ticks.getMetadata().getName();

    // /dev/shm is the group's size in every member (a runtime's default is 64 MiB).
    for (String member : new String[] {"writer", "reader"}) {
      assertThat(devShmKiB(real, pod, member))
          .as("/dev/shm of %s", member)
          .isEqualTo(SIZE_MIB * 1024);
    }

    // A SysV segment made in one member is seen by the other, and not by another group's pod.
    Matcher made = SEGMENT_ID.matcher(real.exec(pod, "writer", "ipcmk -M 65536"));
    assertThat(made.find()).as("ipcmk printed the segment's id").isTrue();
    String id = made.group(1);
    assertThat(real.exec(pod, "reader", "ipcs -m -i " + id))
        .as("the reader sees segment %s", id)
        .contains("bytes=65536");
    // (util-linux ipcs exits 0 for an unknown id too: it says "id N not found")
    String elsewhere = real.exec(other.getMetadata().getName(), "writer", "ipcs -m -i " + id);
    assertThat(elsewhere)
        .as("another group's pod does not see segment %s", id)
        .doesNotContain("bytes=");

    // Bytes written to /dev/shm by the writer: seen by the reader, charged to the writer only.
    real.exec(pod, "writer", "dd if=/dev/zero of=/dev/shm/ring bs=1M count=8");
    assertThat(real.exec(pod, "reader", "wc -c < /dev/shm/ring").strip())
        .as("the reader sees the writer's file")
        .isEqualTo(Long.toString(8L << 20));
    assertThat(real.shmemCharged(pod, "writer"))
        .as("shmem in the writer's memory cgroup")
        .isGreaterThanOrEqualTo(8L << 20);
    assertThat(real.shmemCharged(pod, "reader"))
        .as("shmem in the reader's memory cgroup")
        .isLessThan(1L << 20);
    assertThat(real.exec(pod, "writer", "cat /sys/fs/cgroup/memory.max").strip())
        .as("the writer's memory limit holds the shared memory (accountTo: writer)")
        .isEqualTo(Long.toString((WRITER_LIMIT_MIB + SIZE_MIB) << 20));
  }

  @Test
  void aWriterThatFillsDevShmGetsEnospcAndNoMemberIsOomKilled(
      E2EEnvironment env, TestNamespace ns) {
    Groups groups = new Groups(env.admin(), ns.name());
    RealNodes real = new RealNodes(env, ns.name());
    groups.create(group("fill"));
    String pod = real.awaitGroupRunning("fill", 1).keySet().iterator().next();

    Commands.Result fill =
        real.tryExec(
            pod, "writer", "dd if=/dev/zero of=/dev/shm/fill bs=1M count=" + (SIZE_MIB + 32));
    assertThat(fill.ok()).as("dd past the declared size fails: %s", fill.output()).isFalse();
    assertThat(fill.output()).contains("No space left on device");
    assertThat(real.exec(pod, "reader", "wc -c < /dev/shm/fill").strip())
        .as("what fitted")
        .isEqualTo(Long.toString(SIZE_MIB << 20));

    Pod after = env.admin().pods().inNamespace(ns.name()).withName(pod).get();
    for (ContainerStatus c : after.getStatus().getContainerStatuses()) {
      assertThat(c.getRestartCount()).as("restarts of %s", c.getName()).isZero();
      assertThat(c.getLastState().getTerminated())
          .as("%s was never terminated (no OOM kill)", c.getName())
          .isNull();
    }
  }

  private static long devShmKiB(RealNodes real, String pod, String container) {
    // df -k: "tmpfs  98304  0  98304  0% /dev/shm"
    String[] line = real.exec(pod, container, "df -k /dev/shm | tail -1").trim().split("\\s+");
    return Long.parseLong(line[1]);
  }

  private static SharedIpcGroup group(String name) {
    String yaml =
        """
        apiVersion: sharedipc.dev/v1alpha1
        kind: SharedIpcGroup
        metadata:
          name: %s
        spec:
          replicas: 1
          placement: SamePod
          sharedMemory: {size: %dMi, mountPath: /dev/shm, accountTo: writer}
          members:
            - name: writer
              template:
                spec:
                  containers:
                    - name: writer
                      image: busybox:1.36
                      command: [sh, -c, "sleep infinity"]
                      resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {memory: %dMi}}
            - name: reader
              template:
                spec:
                  containers:
                    - name: reader
                      image: busybox:1.36
                      command: [sh, -c, "sleep infinity"]
                      resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {memory: 32Mi}}
        """
            .formatted(name, SIZE_MIB, WRITER_LIMIT_MIB);
    return Serialization.unmarshal(yaml, SharedIpcGroup.class);
  }
}
