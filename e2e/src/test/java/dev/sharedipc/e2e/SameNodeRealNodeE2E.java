package dev.sharedipc.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.api.Labels;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.e2e.harness.E2EEnvironment;
import dev.sharedipc.e2e.harness.E2EExtension;
import dev.sharedipc.e2e.harness.TestNamespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * SameNode through the CSI driver as the real kubelet calls it (the agent DaemonSet's csi
 * container, registered by the registrar stand-in): in a namespace that enforces Pod Security
 * restricted, the non-root members of one instance share the bytes of one tmpfs of the declared
 * size, another instance has its own, a member deleted and re-created joins the same memory, and
 * the tmpfs is unmounted from the node when the group is deleted.
 */
@ExtendWith(E2EExtension.class)
class SameNodeRealNodeE2E {
  private static final int UID = 1000;
  private static final int FS_GROUP = 2000;
  private static final long SIZE_MIB = 8;

  @Test
  void membersOfOneInstanceShareOneTmpfsThatOutlivesAMemberAndGoesWithTheGroup(
      E2EEnvironment env, TestNamespace ns) {
    env.admin()
        .namespaces()
        .withName(ns.name())
        .edit(
            n -> {
              n.getMetadata().getLabels().put("pod-security.kubernetes.io/enforce", "restricted");
              return n;
            });
    Groups groups = new Groups(env.admin(), ns.name());
    RealNodes real = new RealNodes(env, ns.name());
    groups.create(group("frames"));
    groups.create(group("other"));
    Map<String, Pod> frames = real.awaitGroupRunning("frames", 2);
    Map<String, Pod> other = real.awaitGroupRunning("other", 2);
    String producer = member(frames, "producer");
    String consumer = member(frames, "consumer");

    String[] df = real.exec(producer, "producer", "df -k /frames | tail -1").trim().split("\\s+");
    assertThat(Long.parseLong(df[1])).as("size of /frames").isEqualTo(SIZE_MIB * 1024);
    real.exec(producer, "producer", "echo frame-1 > /frames/latest && id -u");
    assertThat(real.exec(consumer, "consumer", "cat /frames/latest").strip())
        .as("the consumer reads the producer's bytes")
        .isEqualTo("frame-1");
    assertThat(real.tryExec(member(other, "consumer"), "consumer", "cat /frames/latest").ok())
        .as("another instance's member does not see them")
        .isFalse();

    // A member deleted (the kubelet unpublishes its volume) and re-created joins the same tmpfs.
    String consumerUid = frames.get(consumer).getMetadata().getUid();
    env.admin().pods().inNamespace(ns.name()).withName(consumer).delete();
    await("the consumer re-created")
        .atMost(RealNodes.START)
        .pollInterval(RealNodes.POLL)
        .until(
            () -> {
              Pod p = env.admin().pods().inNamespace(ns.name()).withName(consumer).get();
              return p != null && !p.getMetadata().getUid().equals(consumerUid);
            });
    Map<String, Pod> again = real.awaitGroupRunning("frames", 2);
    assertThat(real.exec(member(again, "consumer"), "consumer", "cat /frames/latest").strip())
        .as("the new consumer reads what the producer wrote before")
        .isEqualTo("frame-1");

    // The instance's tmpfs is a mount on the node while it has members, and none once it has not.
    String node = again.get(producer).getSpec().getNodeName();
    String instanceMounts = "/instances/" + ns.name() + "_frames_";
    assertThat(mountsOnNode(env, node, instanceMounts))
        .as("mounts of %s", instanceMounts)
        .isPositive();
    groups.api().inNamespace(ns.name()).withName("frames").delete();
    await("the tmpfs of frames unmounted from " + node)
        .atMost(Duration.ofMinutes(4))
        .pollInterval(Duration.ofSeconds(5))
        .until(() -> mountsOnNode(env, node, instanceMounts) == 0);
    assertThat(mountsOnNode(env, node, "/instances/" + ns.name() + "_other_"))
        .as("the other group's instance keeps its tmpfs")
        .isPositive();
  }

  /** Lines of the node's own mountinfo that contain {@code fragment}. */
  private static long mountsOnNode(E2EEnvironment env, String node, String fragment) {
    String mountinfo =
        env.cluster()
            .onRealNode(node, Duration.ofMinutes(4), "cat", "/proc/1/mountinfo")
            .orThrow("cat /proc/1/mountinfo on " + node)
            .output();
    return mountinfo.lines().filter(l -> l.contains(fragment)).count();
  }

  private static String member(Map<String, Pod> pods, String member) {
    return pods.values().stream()
        .filter(p -> member.equals(p.getMetadata().getLabels().get(Labels.MEMBER)))
        .map(p -> p.getMetadata().getName())
        .findFirst()
        .orElseThrow(
            () -> new AssertionError("no pod of member " + member + " in " + pods.keySet()));
  }

  private static SharedIpcGroup group(String name) {
    String member =
        """
            - name: %1$s
              template:
                spec:
                  securityContext: {runAsNonRoot: true, runAsUser: %2$d, fsGroup: %3$d, seccompProfile: {type: RuntimeDefault}}
                  containers:
                    - name: %1$s
                      image: busybox:1.36
                      command: [sh, -c, "sleep infinity"]
                      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
                      resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {memory: 32Mi}}
        """;
    return Serialization.unmarshal(
        """
        apiVersion: sharedipc.dev/v1alpha1
        kind: SharedIpcGroup
        metadata:
          name: %s
        spec:
          replicas: 1
          placement: SameNode
          sharedMemory: {size: %dMi, mountPath: /frames, medium: CSI}
          # The default 60s is shorter than a member's first start on the emulated node (image
          # unpack, the CSI publish, the container): the instance would be re-placed and the only
          # node avoided for 5 minutes (PlacementTimedOut, seen in CI on 2026-12-07).
          scheduling: {timeout: 10m}
          members:
        %s%s"""
            .formatted(
                name,
                SIZE_MIB,
                member.formatted("producer", UID, FS_GROUP),
                member.formatted("consumer", UID, FS_GROUP)),
        SharedIpcGroup.class);
  }
}
