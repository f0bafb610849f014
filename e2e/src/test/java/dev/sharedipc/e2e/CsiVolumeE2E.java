package dev.sharedipc.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.agent.csi.CsiClient;
import dev.sharedipc.agent.csi.DriverProcess;
import dev.sharedipc.api.CsiVolume;
import dev.sharedipc.api.Labels;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.e2e.harness.E2EEnvironment;
import dev.sharedipc.e2e.harness.E2EExtension;
import dev.sharedipc.e2e.harness.TestNamespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CSI medium end to end: deploy/'s CSIDriver object and the operator (with only its
 * ServiceAccount's RBAC) on the local control plane, a SameNode group with {@code medium: CSI}
 * whose non-root members follow Pod Security "restricted", in a namespace that enforces it; the
 * real scheduler binds the pods to a KWOK node. There is no kubelet, so the test stands in for that
 * node's kubelet: it runs the real driver ({@code sharedipc-agent csi}, a process, with a token of
 * the agent's ServiceAccount as the DaemonSet's csi container has) and calls NodePublishVolume with
 * the volume attributes of the pods the operator rendered plus the pod info of the bound pods, as
 * the kubelet does for an inline volume with {@code podInfoOnMount: true}. Files are written and
 * read as the members' uid with their fsGroup, as their containers would.
 */
@ExtendWith(E2EExtension.class)
@Order(1)
class CsiVolumeE2E {
  private static final long UID = 1000;
  private static final long FS_GROUP = 2000;
  private static final long SIZE = 1024 * 1024;

  @TempDir Path tmp;
  private Path jar;
  private Path stateDir;
  private Path socket;
  private Path kubeconfig;
  private DriverProcess driver;
  private final List<String> tokenPods = new ArrayList<>();
  private E2EEnvironment env;

  @BeforeAll
  static void needsRoot() {
    RealIpc.requireRootAndTools();
  }

  @AfterEach
  void stopDriverAndUnmount() throws Exception {
    if (driver != null) {
      driver.close();
    }
    for (String pod : tokenPods) {
      env.admin().pods().inNamespace(NodeAgent.NAMESPACE).withName(pod).withGracePeriod(0).delete();
    }
    List<String> left =
        mountsUnder(tmp).stream().sorted(Comparator.comparing(String::length).reversed()).toList();
    for (String mount : left) {
      new ProcessBuilder("umount", "-l", mount).inheritIO().start().waitFor(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void
      membersOfARestrictedGroupShareATmpfsOfExactlyTheSizeThatOutlivesADriverRestartAndGoesWithTheGroup(
          E2EEnvironment env, TestNamespace ns) throws Exception {
    Groups groups = new Groups(env.admin(), ns.name());
    List<Pod> pods = restrictedGroup(env, ns, groups, "pair");
    Pod producer = member(pods, "producer");
    Pod consumer = member(pods, "consumer");
    assertThat(producer.getSpec().getNodeName())
        .as("members of one instance on one node")
        .isEqualTo(consumer.getSpec().getNodeName())
        .startsWith("kwok-node-");
    startDriver(producer.getSpec().getNodeName());
    try (CsiClient kubelet = new CsiClient(socket)) {
      Path producerTarget = target(producer);
      publish(kubelet, producer, attributes(producer, producer));
      assertThat(Files.getFileStore(producerTarget).type()).isEqualTo("tmpfs");
      assertThat(Files.getFileStore(producerTarget).getTotalSpace())
          .as("tmpfs size = spec.sharedMemory.size")
          .isEqualTo(SIZE);
      asMember("printf shared > \"$0\"/frame", producerTarget);
      String instanceMount = instanceMount();

      // a crash of the driver between two publishes: the instance's tmpfs and its bytes stay
      driver.kill();
      assertThat(mountsUnder(stateDir))
          .as("the instance tmpfs while the driver is down")
          .contains(instanceMount);
      startDriver(producer.getSpec().getNodeName());
      try (CsiClient restarted = new CsiClient(socket)) {
        Path consumerTarget = target(consumer);
        publish(restarted, consumer, attributes(consumer, consumer));
        assertThat(asMember("cat \"$0\"/frame", consumerTarget))
            .as("the byte the producer wrote, read by the consumer")
            .isEqualTo("shared");
        assertThat(instanceMount())
            .as("one tmpfs for the instance, before and after the restart")
            .isEqualTo(instanceMount);
        // past the size: ENOSPC at the write, not an eviction later
        ProcessResult full =
            run(
                List.of(
                    "setpriv",
                    "--reuid=" + UID,
                    "--regid=" + UID,
                    "--groups=" + FS_GROUP,
                    "dd",
                    "if=/dev/zero",
                    "of=" + consumerTarget.resolve("big"),
                    "bs=64k",
                    "count=32"));
        assertThat(full.exitCode).as("dd past the size: %s", full.output).isNotZero();
        assertThat(full.output).contains("No space left on device");

        // the group deleted: its pods go, the kubelet unpublishes each, the last one frees the
        // memory
        groups.api().inNamespace(ns.name()).withName("pair").delete();
        await("the group's pods gone")
            .atMost(Groups.CONVERGE)
            .pollInterval(Groups.POLL)
            .untilAsserted(() -> assertThat(groups.pods("pair")).isEmpty());
        restarted.unpublish(volumeId(producer), producerTarget);
        assertThat(mountsUnder(stateDir))
            .as("the tmpfs while the consumer still holds it")
            .contains(instanceMount);
        restarted.unpublish(volumeId(consumer), consumerTarget);
        assertThat(mountsUnder(tmp))
            .as("no mount left in /proc/self/mountinfo after the last unpublish")
            .isEmpty();
      }
    } catch (Exception | AssertionError e) {
      printDriverLog();
      throw e;
    }
  }

  @Test
  void aPodOfAnotherGroupThatCopiesTheAttributesIsRefused(E2EEnvironment env, TestNamespace ns)
      throws Exception {
    Groups groups = new Groups(env.admin(), ns.name());
    Pod victim = member(restrictedGroup(env, ns, groups, "victim"), "producer");
    Pod intruder = member(restrictedGroup(env, ns, groups, "intruder"), "producer");
    startDriver(intruder.getSpec().getNodeName());
    try (CsiClient kubelet = new CsiClient(socket)) {
      // what the kubelet sends for an intruder whose volume attributes name the victim's instance
      Map<String, String> forged = attributes(victim, intruder);

      assertThatThrownBy(() -> publish(kubelet, intruder, forged))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                assertThat(e.getStatus().getDescription())
                    .contains("not controlled by SharedIpcGroup victim");
              });
      assertThat(mountsUnder(tmp)).as("nothing mounted for a refused pod").isEmpty();
    } catch (Exception | AssertionError e) {
      printDriverLog();
      throw e;
    }
  }

  private void printDriverLog() throws Exception {
    Path log = env.logDir().resolve("csi-driver.log");
    if (Files.exists(log)) {
      System.err.println("[e2e] the driver's log " + log + ":\n" + Files.readString(log));
    }
  }

  /**
   * A SameNode group of two non-root members under Pod Security restricted, medium CSI, Ready; its
   * pods.
   */
  private List<Pod> restrictedGroup(
      E2EEnvironment env, TestNamespace ns, Groups groups, String name) {
    this.env = env;
    env.admin()
        .namespaces()
        .withName(ns.name())
        .edit(
            n -> {
              n.getMetadata().getLabels().put("pod-security.kubernetes.io/enforce", "restricted");
              return n;
            });
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
    SharedIpcGroup group =
        Serialization.unmarshal(
            """
        apiVersion: sharedipc.dev/v1alpha1
        kind: SharedIpcGroup
        metadata:
          name: %s
        spec:
          replicas: 1
          placement: SameNode
          sharedMemory: {size: 1Mi, mountPath: /frames, medium: CSI}
          members:
        %s%s"""
                .formatted(
                    name,
                    member.formatted("producer", UID, FS_GROUP),
                    member.formatted("consumer", UID, FS_GROUP)),
            SharedIpcGroup.class);
    group.getMetadata().setNamespace(ns.name());
    groups.api().inNamespace(ns.name()).resource(group).create();
    await(name + " Ready: one instance of two pods on a KWOK node")
        .atMost(Groups.CONVERGE)
        .pollInterval(Groups.POLL)
        .untilAsserted(
            () -> {
              SharedIpcGroup current = groups.get(name);
              assertThat(current.getStatus()).isNotNull();
              assertThat(current.getStatus().getReadyInstances())
                  .as("status.readyInstances")
                  .isEqualTo(1);
              assertThat(groups.pods(name).values())
                  .hasSize(2)
                  .allSatisfy(
                      p -> {
                        assertThat(Groups.isReady(p))
                            .as("%s Ready", p.getMetadata().getName())
                            .isTrue();
                        assertThat(p.getSpec().getNodeName()).startsWith("kwok-node-");
                      });
            });
    List<Pod> pods = new ArrayList<>(groups.pods(name).values());
    assertThat(pods)
        .allSatisfy(
            p -> {
              assertThat(p.getSpec().getVolumes())
                  .as("the hostPath is gone: restricted admits only the CSI volume")
                  .noneMatch(v -> v.getHostPath() != null);
              assertThat(csiVolume(p).getCsi().getDriver()).isEqualTo(CsiVolume.DRIVER);
            });
    return pods;
  }

  private static Pod member(List<Pod> pods, String member) {
    return pods.stream()
        .filter(p -> member.equals(p.getMetadata().getLabels().get(Labels.MEMBER)))
        .findFirst()
        .orElseThrow();
  }

  private static Volume csiVolume(Pod pod) {
    return pod.getSpec().getVolumes().stream()
        .filter(v -> v.getCsi() != null)
        .findFirst()
        .orElseThrow(
            () ->
                new AssertionError(
                    "pod "
                        + pod.getMetadata().getName()
                        + " has no csi volume: "
                        + pod.getSpec().getVolumes()));
  }

  /**
   * What the kubelet sends for {@code pod}: the attributes of {@code renderedFor}'s csi volume and
   * the pod's own info.
   */
  private static Map<String, String> attributes(Pod renderedFor, Pod pod) {
    Map<String, String> a = new HashMap<>(csiVolume(renderedFor).getCsi().getVolumeAttributes());
    a.put("csi.storage.k8s.io/pod.name", pod.getMetadata().getName());
    a.put("csi.storage.k8s.io/pod.namespace", pod.getMetadata().getNamespace());
    a.put("csi.storage.k8s.io/pod.uid", pod.getMetadata().getUid());
    a.put("csi.storage.k8s.io/serviceAccount.name", "default");
    a.put("csi.storage.k8s.io/ephemeral", "true");
    return a;
  }

  private void publish(CsiClient kubelet, Pod pod, Map<String, String> attributes)
      throws Exception {
    kubelet.publish(
        volumeId(pod),
        target(pod),
        pod.getSpec().getSecurityContext().getFsGroup().intValue(),
        attributes);
  }

  /** The kubelet's volume handle of an inline volume: unique per pod and volume. */
  private static String volumeId(Pod pod) {
    return "csi-" + pod.getMetadata().getUid() + "-" + csiVolume(pod).getName();
  }

  /**
   * Where the kubelet would mount the pod's volume (it makes the parent; the driver the target).
   */
  private Path target(Pod pod) throws Exception {
    Path dir =
        Files.createDirectories(
            tmp.resolve("kubelet/pods")
                .resolve(pod.getMetadata().getUid())
                .resolve("volumes/kubernetes.io~csi")
                .resolve(csiVolume(pod).getName()));
    return dir.resolve("mount");
  }

  /**
   * The driver for {@code node}, from a copy of the agent's jars, with the agent ServiceAccount's
   * token.
   */
  private void startDriver(String node) throws Exception {
    if (jar == null) {
      Path built = env.repo().resolve("agent/target/sharedipc-agent.jar");
      assertThat(built)
          .as("the agent jar (./mvnw -pl agent,e2e -am verify builds it)")
          .isRegularFile();
      jar =
          Files.copy(
              built, tmp.resolve("sharedipc-agent.jar"), StandardCopyOption.REPLACE_EXISTING);
      Files.copy(
          DriverProcess.libraries(built),
          DriverProcess.libraries(jar),
          StandardCopyOption.REPLACE_EXISTING);
      // the members' uid must reach the targets under the temporary directory, as it reaches the
      // kubelet's
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwx--x--x"));
      stateDir = tmp.resolve("state");
      socket = tmp.resolve("csi.sock");
      String tokenPod = "e2e-csi-" + Long.toHexString(System.nanoTime());
      tokenPods.add(tokenPod);
      kubeconfig =
          NodeAgent.serviceAccountKubeconfig(env, node, tokenPod, tmp.resolve("csi.kubeconfig"));
    }
    driver =
        new DriverProcess(
            jar,
            node,
            socket,
            stateDir,
            env.logDir().resolve("csi-driver.log"),
            "--kubelet-root",
            tmp.resolve("kubelet").toString(),
            "--kubeconfig",
            kubeconfig.toString());
  }

  /** The one tmpfs the driver mounted for the instance under its state dir. */
  private String instanceMount() throws Exception {
    List<String> mounts = mountsUnder(stateDir);
    assertThat(mounts).as("mounts under the state dir").hasSize(1);
    return mounts.get(0);
  }

  /** Mount points under {@code dir}, from /proc/self/mountinfo. */
  private static List<String> mountsUnder(Path dir) throws Exception {
    String prefix = dir.toRealPath().toString() + "/";
    return Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8).stream()
        .map(l -> l.split(" ")[4])
        .filter(p -> p.startsWith(prefix))
        .toList();
  }

  /**
   * {@code sh -c script target} as the members' uid with their fsGroup, as their containers run;
   * its output.
   */
  private static String asMember(String script, Path target) throws Exception {
    ProcessResult r =
        run(
            List.of(
                "setpriv",
                "--reuid=" + UID,
                "--regid=" + UID,
                "--groups=" + FS_GROUP,
                "sh",
                "-c",
                script,
                target.toString()));
    assertThat(r.exitCode).as("%s as uid %d: %s", script, UID, r.output).isZero();
    return r.output;
  }

  private record ProcessResult(int exitCode, String output) {}

  private static ProcessResult run(List<String> command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("%s finished", command).isTrue();
    return new ProcessResult(p.exitValue(), out);
  }
}
