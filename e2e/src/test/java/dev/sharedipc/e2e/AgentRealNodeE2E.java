package dev.sharedipc.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcNode;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus;
import dev.sharedipc.e2e.harness.E2EEnvironment;
import dev.sharedipc.e2e.harness.E2EExtension;
import dev.sharedipc.e2e.harness.TestNamespace;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The agent as the DaemonSet runs it on a real node (hostPID, the node's real /proc, containerd's
 * cgroups): segments made in real containers are attributed to their pods in the node's
 * SharedIpcNode; an orphan (nothing attached, its creator gone) of a group whose policy is Delete
 * is removed after its grace with an Event, while a group whose policy is Report keeps its own.
 */
@ExtendWith(E2EExtension.class)
class AgentRealNodeE2E {
  private static final Pattern SEGMENT_ID = Pattern.compile("Shared memory id: (\\d+)");

  /** Scans every 30 s (deploy/), a grace of 20 s, a report written after the scan. */
  private static final Duration AGENT = Duration.ofMinutes(4);

  @Test
  void segmentsOfRealPodsAreAttributedAndOnlyTheDeleteGroupsOrphanIsRemoved(
      E2EEnvironment env, TestNamespace ns) {
    Groups groups = new Groups(env.admin(), ns.name());
    RealNodes real = new RealNodes(env, ns.name());
    groups.create(group("keep", "Report"));
    groups.create(group("clean", "Delete"));
    Pod keep = real.awaitGroupRunning("keep", 1).values().iterator().next();
    Pod clean = real.awaitGroupRunning("clean", 1).values().iterator().next();
    String keepId = makeSegment(real, keep);
    String cleanId = makeSegment(real, clean);
    String node = keep.getSpec().getNodeName();

    await("the agent on " + node + " removes clean's orphan and reports keep's")
        .atMost(AGENT)
        .pollInterval(Duration.ofSeconds(3))
        .untilAsserted(
            () -> {
              assertThat(real.exec(clean.getMetadata().getName(), "app", "ipcs -m -i " + cleanId))
                  .as("clean's orphan %s removed (ipcs says not found, and exits 0)", cleanId)
                  .doesNotContain("bytes=");
              SharedIpcNode report =
                  env.admin().resources(SharedIpcNode.class).withName(node).get();
              assertThat(report).as("SharedIpcNode %s", node).isNotNull();
              SharedIpcNodeStatus status = report.getStatus();
              assertThat(status).as("its status").isNotNull();
              assertThat(status.getIpcNamespaces())
                  .as("SharedIpcNode %s ipcNamespaces", node)
                  .anySatisfy(
                      r -> {
                        assertThat(r.podUid).isEqualTo(keep.getMetadata().getUid());
                        assertThat(r.podNamespace).isEqualTo(ns.name());
                        assertThat(r.group).isEqualTo("keep");
                        assertThat(r.segments).isEqualTo(1L);
                        assertThat(r.orphans).isEqualTo(1L);
                      });
              assertThat(status.getOrphansRemovedByGroup())
                  .as("orphansRemovedByGroup")
                  .containsEntry(ns.name() + "/clean", 1L)
                  .doesNotContainKey(ns.name() + "/keep");
            });
    assertThat(
            env.admin().v1().events().inNamespace(ns.name()).list().getItems().stream()
                .filter(e -> "OrphanSegmentRemoved".equals(e.getReason()))
                .toList())
        .as("OrphanSegmentRemoved Events")
        .singleElement()
        .satisfies(
            (Event e) -> {
              assertThat(e.getInvolvedObject().getUid()).isEqualTo(clean.getMetadata().getUid());
              assertThat(e.getMessage()).contains("shmid=" + cleanId + " ");
            });
    assertThat(real.exec(keep.getMetadata().getName(), "app", "ipcs -m -i " + keepId))
        .as("keep's segment (policy Report) is still there")
        .contains("bytes=4096");
  }

  private static String makeSegment(RealNodes real, Pod pod) {
    Matcher made =
        SEGMENT_ID.matcher(real.exec(pod.getMetadata().getName(), "app", "ipcmk -M 4096"));
    assertThat(made.find()).as("ipcmk printed the segment's id").isTrue();
    return made.group(1);
  }

  private static SharedIpcGroup group(String name, String orphanPolicy) {
    return Serialization.unmarshal(
        """
        apiVersion: sharedipc.dev/v1alpha1
        kind: SharedIpcGroup
        metadata:
          name: %s
        spec:
          replicas: 1
          placement: SamePod
          sharedMemory: {size: 16Mi, mountPath: /dev/shm}
          segments: {orphanPolicy: %s, orphanGracePeriod: 20s}
          members:
            - name: app
              template:
                spec:
                  containers:
                    - name: app
                      image: busybox:1.36
                      command: [sh, -c, "sleep infinity"]
                      resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {memory: 32Mi}}
        """
            .formatted(name, orphanPolicy),
        SharedIpcGroup.class);
  }
}
