package dev.sharedipc.operator.samenode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.api.testing.RealApiServer;
import dev.sharedipc.api.v1alpha1.Placement;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedMemoryMedium;
import dev.sharedipc.operator.Fixtures;
import dev.sharedipc.operator.placement.InstancePlacer;
import dev.sharedipc.operator.render.GroupRenderer;
import dev.sharedipc.operator.sync.GroupEvents;
import dev.sharedipc.operator.sync.GroupSync;
import dev.sharedipc.operator.sync.OwnedPods;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * SameNode rollout steps on the real API server when the operator's cache lags: right after a step
 * removes an instance's working pods, the cache can still show them Ready and not terminating (an
 * informer does until the removal's update arrives). A step taken on that view, in another order or
 * after the user changed the spec again, must not take a second working instance away. The twin of
 * {@code reconcile.PodSyncIT} for SamePod groups.
 *
 * <p>The sync is driven directly with the view as the test gives it. The group exists only here:
 * its UID is that of a ConfigMap, which its pods name as their controller, so the operator that
 * other tests run on this API server leaves them alone and the garbage collector keeps them. The
 * pods are bound to nodes that no kubelet serves, so a removed pod stays terminating on the API
 * server.
 */
class SameNodeSyncIT {
  private static final String OLD = "busybox:1.36";
  private static final String NEW = "busybox:1.37";
  private static final String NEWER = "busybox:1.38";

  private static RealApiServer api;
  private static KubernetesClient client;

  private final GroupRenderer renderer = new GroupRenderer();

  /** The reason and message of every removal the sync reported, in order. */
  private final List<String> removals = new CopyOnWriteArrayList<>();

  private String ns;
  private String ownerUid;
  private List<Node> nodes;
  private SameNodeSync sync;

  @BeforeAll
  static void start() {
    api = RealApiServer.shared();
    client = api.client();
  }

  @BeforeEach
  void threeNodes() {
    ns = api.newNamespace("samenode-sync");
    // the group exists only here; its pods' controller is a stand-in ConfigMap (see Fixtures)
    ownerUid = dev.sharedipc.operator.Fixtures.standInOwnerUid(client, ns, "g");
    nodes = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      nodes.add(
          new NodeBuilder()
              .withNewMetadata()
              .withName(ns + "-n" + i)
              .endMetadata()
              .withNewStatus()
              .addNewCondition()
              .withType("Ready")
              .withStatus("True")
              .endCondition()
              .endStatus()
              .build());
    }
    sync =
        new SameNodeSync(
            new SameNodePlanner(
                renderer, new InstancePlacer(), new AvoidList(AvoidList.DEFAULT_TTL)),
            renderer,
            new OwnedPods(client),
            new GroupEvents() {
              @Override
              public void normal(HasMetadata object, String reason, String message) {
                if (!reason.equals("Created")) {
                  removals.add(reason + ": " + message);
                }
              }

              @Override
              public void warning(HasMetadata object, String reason, String message) {
                removals.add(reason + ": " + message);
              }
            },
            Clock.systemUTC());
  }

  @Test
  void aStepOnAViewThatDoesNotShowTheLastEvictionTakesNothingInAnyOrder() {
    List<Pod> cached = running(group(OLD, null), 0, 1, 2);
    SharedIpcGroup rolling = group(NEW, null);

    step(rolling, cached);
    assertThat(removals).as("the first step").hasSize(1);
    assertThat(removals.get(0)).contains("replacing pod g-0-reader");
    assertThat(down()).as("instances with a pod taken away").containsExactly(0);

    step(
        rolling,
        List.of(
            cached.get(3),
            cached.get(5),
            cached.get(1),
            cached.get(4),
            cached.get(0),
            cached.get(2)));
    step(rolling, reversed(cached));
    assertThat(removals).as("steps taken on views that do not show the last eviction").hasSize(1);
    assertThat(down()).as("instances with a pod taken away").containsExactly(0);
  }

  @Test
  void aSpecChangedAgainBeforeTheViewShowsTheLastEvictionTakesNoSecondInstance() {
    // Instance 0 already runs the spec being rolled out; 1 and 2 still run the old one.
    List<Pod> cached = new ArrayList<>(running(group(NEW, null), 0));
    cached.addAll(running(group(OLD, null), 1, 2));

    step(group(NEW, null), cached);
    assertThat(removals).as("the first step").hasSize(1);
    assertThat(removals.get(0)).contains("replacing pod g-1-reader");
    assertThat(down()).as("instances with a pod taken away").containsExactly(1);

    // The user changes the spec again at once: the group is reconciled on a pod cache that has
    // not seen the eviction, where instance 0 is outdated again and every instance looks Ready.
    SharedIpcGroup changedAgain = group(NEWER, null);
    step(changedAgain, cached);
    step(changedAgain, reversed(cached));
    assertThat(down())
        .as("instances with a pod taken away, as the API server has them")
        .containsExactly(1);

    // Once the view shows the eviction the rollout goes on, one instance at a time.
    step(changedAgain, fromApiServer());
    assertThat(down()).as("instance 1 is still down: nothing else goes").containsExactly(1);
    // The kubelet finishes the eviction and the sync's successor runs (made here: one the sync
    // makes names the group as its owner, which the garbage collector would remove).
    client.pods().inNamespace(ns).withName("g-1-reader").withGracePeriod(0).delete();
    awaitGone("g-1-reader");
    running(changedAgain, 1, "reader");
    removals.clear();
    step(changedAgain, fromApiServer());
    assertThat(removals).as("the next step, on a view that shows the last one").hasSize(1);
    assertThat(removals.get(0)).contains("replacing pod g-0-reader");
    assertThat(down()).containsExactly(0);
  }

  @Test
  void aMediumChangedBackBeforeTheViewShowsTheLastWholeReplacementTakesNoSecondInstance() {
    // Instance 0 already moved to the CSI volume; 1 and 2 still use the node's directory.
    List<Pod> cached = new ArrayList<>(running(group(OLD, SharedMemoryMedium.CSI), 0));
    cached.addAll(running(group(OLD, null), 1, 2));

    step(group(OLD, SharedMemoryMedium.CSI), cached);
    assertThat(removals).as("the first step replaces instance 1 whole").hasSize(2);
    assertThat(removals).allSatisfy(r -> assertThat(r).startsWith("MediumChanged"));
    assertThat(down()).as("instances with a pod taken away").containsExactly(1);

    // The user takes the medium back at once: on the stale view instance 0 is the one on the
    // other medium, and instances 1 and 2 look whole and Ready.
    SharedIpcGroup back = group(OLD, SharedMemoryMedium.HostPath);
    step(back, cached);
    step(back, reversed(cached));
    assertThat(down())
        .as("instances with a pod taken away, as the API server has them")
        .containsExactly(1);
  }

  // ---- helpers ----

  /** One sync step on {@code view}, as the operator's cache would hand it over. */
  private void step(SharedIpcGroup group, List<Pod> view) {
    sync.sync(group, renderer.render(group), view, new GroupSync.Cluster(() -> nodes, () -> view));
  }

  /**
   * The SameNode group {@code g} of this test: three instances of writer and reader, the reader
   * running {@code readerImage}, on {@code medium} (null: the default, the node's directory here).
   */
  private SharedIpcGroup group(String readerImage, SharedMemoryMedium medium) {
    SharedIpcGroup group = Fixtures.forCluster("g", 3, "64Mi");
    group.getMetadata().setNamespace(ns);
    group.getMetadata().setUid(ownerUid);
    group.getMetadata().setGeneration(1L);
    group.getSpec().setPlacement(Placement.SameNode);
    group.getSpec().getSharedMemory().setMedium(medium);
    group
        .getSpec()
        .getMembers()
        .get(1)
        .getTemplate()
        .getSpec()
        .getContainers()
        .get(0)
        .setImage(readerImage);
    return group;
  }

  /**
   * Creates the pods of {@code instances} as {@code group} renders them, bound to their nodes and
   * Running and Ready as a kubelet would report them; returns them as the API server has them.
   */
  private List<Pod> running(SharedIpcGroup group, int... instances) {
    List<Pod> out = new ArrayList<>();
    for (int index : instances) {
      for (String member : List.of("writer", "reader")) {
        out.add(running(group, index, member));
      }
    }
    return out;
  }

  /** Creates one member pod of one instance, as {@link #running(SharedIpcGroup, int...)} does. */
  private Pod running(SharedIpcGroup group, int index, String member) {
    Map<Integer, String> nodeByInstance = new TreeMap<>();
    for (int i = 0; i < nodes.size(); i++) {
      nodeByInstance.put(i, nodes.get(i).getMetadata().getName());
    }
    Pod rendered =
        renderer
            .renderSameNode(group, nodeByInstance)
            .pod(GroupRenderer.podName(group, index, member))
            .orElseThrow();
    Pod created =
        client
            .pods()
            .inNamespace(ns)
            .resource(
                new PodBuilder(rendered)
                    .editMetadata()
                    .withNamespace(ns)
                    .withOwnerReferences()
                    .addNewOwnerReference()
                    .withApiVersion("v1")
                    .withKind("ConfigMap")
                    .withName("g")
                    .withUid(ownerUid)
                    .withController(true)
                    .endOwnerReference()
                    .endMetadata()
                    .editSpec()
                    .withNodeName(nodeByInstance.get(index))
                    .endSpec()
                    .build())
            .create();
    return ready(created);
  }

  /** Sets the pod Running and Ready (a patch: other tests' fake kubelet may touch pods). */
  private Pod ready(Pod pod) {
    return client
        .pods()
        .inNamespace(ns)
        .withName(pod.getMetadata().getName())
        .editStatus(
            p ->
                new PodBuilder(p)
                    .withStatus(
                        new PodStatusBuilder()
                            .withPhase("Running")
                            .addNewCondition()
                            .withType("Ready")
                            .withStatus("True")
                            .endCondition()
                            .build())
                    .build());
  }

  /** The instances with a pod that the API server shows terminating or no longer has. */
  private TreeSet<Integer> down() {
    TreeSet<Integer> out = new TreeSet<>();
    for (int i = 0; i < 3; i++) {
      for (String member : List.of("writer", "reader")) {
        Pod p = client.pods().inNamespace(ns).withName("g-" + i + "-" + member).get();
        if (p == null || p.getMetadata().getDeletionTimestamp() != null) {
          out.add(i);
        }
      }
    }
    return out;
  }

  /** A fresh view: what the cache shows once it has caught up. */
  private List<Pod> fromApiServer() {
    return client.pods().inNamespace(ns).list().getItems();
  }

  private void awaitGone(String name) {
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> client.pods().inNamespace(ns).withName(name).get() == null);
  }

  private static List<Pod> reversed(List<Pod> pods) {
    List<Pod> out = new ArrayList<>(pods);
    Collections.reverse(out);
    return out;
  }
}
