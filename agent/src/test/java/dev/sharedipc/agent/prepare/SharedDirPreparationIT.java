package dev.sharedipc.agent.prepare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.agent.report.ClusterView;
import dev.sharedipc.agent.testing.Root;
import dev.sharedipc.api.Labels;
import dev.sharedipc.api.testing.RealApiServer;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's pod informer makes the shared directory of a SameNode member bound to its node: a
 * real API server holding a real SharedIpcGroup (its uid names the directory) and member pods as
 * the operator makes them, the agent's {@link ClusterView} with the {@link SharedDirPreparer}
 * hooked in, and a real tmpfs as the shared root (root needed for the mount and the chown).
 */
class SharedDirPreparationIT {
  @TempDir Path tmp;
  Path root;
  RealApiServer api;

  /** The agent's own client of the test's API server, as the agent would connect. */
  dev.sharedipc.agent.kube.KubeApi kube() {
    return dev.sharedipc.agent.testing.AgentClients.of(api);
  }

  KubernetesClient client;
  ClusterView link;
  String namespace;
  String nodeName;

  @BeforeEach
  void setUp() throws Exception {
    Root.require();
    Root.requireTool("mount");
    Root.requireTool("umount");
    root = Files.createDirectory(tmp.resolve("shared"));
    SharedDirPreparerIT.run(
        "mount", "-t", "tmpfs", "-o", "size=8m,mode=0755", "sharedipc-it", root.toString());
    api = RealApiServer.shared();
    namespace = api.newNamespace("prepare");
    nodeName = "node-" + namespace;
    client = api.newClient();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (link != null) {
      link.close();
    }
    if (client != null) {
      client.close();
    }
    if (root != null
        && Files.readString(Path.of("/proc/self/mountinfo"))
            .contains(" " + root.toRealPath() + " ")) {
      SharedDirPreparerIT.run("umount", root.toString());
    }
  }

  Pod member(SharedIpcGroup group, int instance, String member, String node) {
    String dir = namespace + "_cache_" + group.getMetadata().getUid() + "_" + instance;
    return client
        .pods()
        .inNamespace(namespace)
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName("cache-" + instance + "-" + member)
                .withLabels(
                    Map.of(
                        Labels.MANAGED_BY,
                        Labels.MANAGED_BY_VALUE,
                        Labels.GROUP,
                        "cache",
                        Labels.INSTANCE,
                        Integer.toString(instance),
                        Labels.MEMBER,
                        member))
                .withAnnotations(Map.of(Labels.SHARED_DIRECTORY_GID_ANNOTATION, "2000"))
                .addNewOwnerReference()
                .withApiVersion("sharedipc.dev/v1alpha1")
                .withKind("SharedIpcGroup")
                .withName("cache")
                .withUid(group.getMetadata().getUid())
                .withController(true)
                .endOwnerReference()
                .endMetadata()
                .withNewSpec()
                .withNodeName(node)
                .addNewContainer()
                .withName(member)
                .withImage("busybox:1.36")
                .endContainer()
                .addNewVolume()
                .withName("sharedipc-shm")
                .withNewHostPath()
                .withPath("/dev/shm/sharedipc/" + dir)
                .withType("Directory")
                .endHostPath()
                .endVolume()
                .endSpec()
                .build())
        .create();
  }

  @Test
  void aMemberBoundToThisNodeGetsItsDirectoryBeforeTheKubeletNeedsIt() throws Exception {
    SharedIpcGroup group =
        client
            .resources(SharedIpcGroup.class)
            .inNamespace(namespace)
            .load(
                new ByteArrayInputStream(
                    ("""
        apiVersion: sharedipc.dev/v1alpha1
        kind: SharedIpcGroup
        metadata: {name: cache}
        spec:
          placement: SameNode
          sharedMemory: {size: 64Mi}
          members:
            - name: w
              template: {spec: {containers: [{name: w, image: busybox:1.36}]}}
        """)
                        .getBytes(StandardCharsets.UTF_8)))
            .create();
    String uid = group.getMetadata().getUid();
    member(group, 0, "w", nodeName); // there before the agent starts

    link = new ClusterView(kube(), nodeName);
    link.onPod(new SharedDirPreparer(root)::prepare);
    link.start();
    member(group, 1, "w", nodeName); // bound while the agent watches
    member(group, 2, "w", "another-node"); // not this node's business

    for (int instance : new int[] {0, 1}) {
      Path dir = root.resolve(namespace + "_cache_" + uid + "_" + instance);
      await("directory of instance " + instance)
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS));
      Map<String, Object> a =
          Files.readAttributes(dir, "unix:uid,gid,mode", LinkOption.NOFOLLOW_LINKS);
      assertThat(a.get("uid")).isEqualTo(0);
      assertThat(a.get("gid")).isEqualTo(2000);
      assertThat(Integer.toOctalString((Integer) a.get("mode") & 07777)).isEqualTo("2770");
    }
    assertThat(root.resolve(namespace + "_cache_" + uid + "_2")).doesNotExist();
  }
}
