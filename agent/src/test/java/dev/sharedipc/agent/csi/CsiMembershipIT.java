package dev.sharedipc.agent.csi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sharedipc.agent.testing.Root;
import dev.sharedipc.api.Labels;
import dev.sharedipc.api.testing.RealApiServer;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Only members get in: the plugin started with a kubeconfig checks every publishing pod with a real
 * API server (controlled by the group the volume names, labelled with its instance, bound to this
 * node, the UID the kubelet sent) and answers PERMISSION_DENIED otherwise, before any mount.
 */
class CsiMembershipIT {
  private static final String NODE = "csi-it-node";

  @TempDir Path tmp;
  RealApiServer api;
  KubernetesClient k8s;
  String namespace;
  DriverProcess driver;
  CsiClient client;

  @BeforeEach
  void setUp() throws Exception {
    Root.require();
    api = RealApiServer.shared();
    k8s = api.newClient();
    namespace = api.newNamespace("csi");
    driver =
        new DriverProcess(
            tmp.resolve("csi.sock"),
            tmp.resolve("state"),
            tmp.resolve("driver.log"),
            "--kubelet-root",
            tmp.toString(),
            "--kubeconfig",
            api.writeKubeConfig(tmp.resolve("kubeconfig")).toString());
    client = new CsiClient(tmp.resolve("csi.sock"));
  }

  @AfterEach
  void tearDown() throws Exception {
    if (client != null) {
      client.close();
    }
    if (driver != null) {
      driver.close();
    }
    if (k8s != null) {
      k8s.close();
    }
    LinuxMounter mounter = new LinuxMounter();
    List<String> left =
        mounter.mountPoints().stream()
            .filter(p -> p.startsWith(tmp.toString()))
            .sorted(Comparator.comparing(String::length).reversed())
            .toList();
    for (String p : left) {
      mounter.unmount(Path.of(p));
    }
  }

  @Test
  void aMemberPodOfTheInstanceGetsIn() throws Exception {
    SharedIpcGroup group = group("trainer");
    Pod pod = pod("trainer-0-0", group, "0", NODE);

    Path target = target(pod.getMetadata().getUid());
    client.publish("vol", target, 0, attributes(group, 0, pod));

    assertThat(Files.getFileStore(target).type()).isEqualTo("tmpfs");
  }

  @Test
  void aPodOfAnotherGroupThatNamesThisGroupIsRefused() throws Exception {
    SharedIpcGroup victim = group("victim");
    SharedIpcGroup intruder = group("intruder");
    Pod pod = pod("intruder-0-0", intruder, "0", NODE);

    assertRefused(pod, attributes(victim, 0, pod), "not controlled by SharedIpcGroup victim");
  }

  @Test
  void aMemberOfAnotherInstanceIsRefused() throws Exception {
    SharedIpcGroup group = group("trainer");
    Pod pod = pod("trainer-1-0", group, "1", NODE);

    assertRefused(pod, attributes(group, 0, pod), "not a member of that instance");
  }

  @Test
  void aPodThatIsNotTheOneTheKubeletNamesIsRefused() throws Exception {
    SharedIpcGroup group = group("trainer");
    Pod pod = pod("trainer-0-0", group, "0", NODE);
    Map<String, String> forged = attributes(group, 0, pod);
    forged.put(VolumeRequest.POD_UID, "00000000-0000-0000-0000-000000000000");

    assertRefused(pod, forged, "does not exist");
  }

  @Test
  void aPodBoundToAnotherNodeIsRefused() throws Exception {
    SharedIpcGroup group = group("trainer");
    Pod pod = pod("trainer-0-0", group, "0", "elsewhere");

    assertRefused(pod, attributes(group, 0, pod), "not this node");
  }

  private void assertRefused(Pod pod, Map<String, String> attributes, String why) throws Exception {
    Path target = target(attributes.get(VolumeRequest.POD_UID));
    assertThatThrownBy(() -> client.publish("vol", target, 0, attributes))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
              assertThat(e.getStatus().getDescription()).contains(why);
            });
    assertThat(new LinuxMounter().mountPoints())
        .as("no mount for a refused pod")
        .noneMatch(p -> p.startsWith(tmp.toString()));
  }

  private SharedIpcGroup group(String name) {
    return k8s.resources(SharedIpcGroup.class)
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
            - name: worker
              template: {spec: {containers: [{name: worker, image: busybox:1.36}]}}
        """
                        .formatted(name))
                    .getBytes(StandardCharsets.UTF_8)))
        .create();
  }

  private Pod pod(String name, SharedIpcGroup owner, String instance, String node) {
    return k8s.pods()
        .inNamespace(namespace)
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .addToLabels(Labels.GROUP, owner.getMetadata().getName())
                .addToLabels(Labels.INSTANCE, instance)
                .addNewOwnerReference()
                .withApiVersion("sharedipc.dev/v1alpha1")
                .withKind("SharedIpcGroup")
                .withName(owner.getMetadata().getName())
                .withUid(owner.getMetadata().getUid())
                .withController(true)
                .endOwnerReference()
                .endMetadata()
                .withNewSpec()
                .withNodeName(node)
                .addNewContainer()
                .withName("worker")
                .withImage("busybox:1.36")
                .endContainer()
                .endSpec()
                .build())
        .create();
  }

  private Map<String, String> attributes(SharedIpcGroup group, int instance, Pod pod) {
    return CsiClient.attributes(
        namespace,
        group.getMetadata().getName(),
        group.getMetadata().getUid(),
        instance,
        "4Mi",
        pod.getMetadata().getName(),
        pod.getMetadata().getUid());
  }

  /** Where the kubelet of pod {@code podUid} asks for its volume (it makes the parent). */
  private Path target(String podUid) throws Exception {
    return Files.createDirectories(
            tmp.resolve("pods").resolve(podUid).resolve("volumes/kubernetes.io~csi/shm"))
        .resolve("mount");
  }
}
