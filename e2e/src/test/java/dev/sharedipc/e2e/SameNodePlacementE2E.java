package dev.sharedipc.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.api.Labels;
import dev.sharedipc.api.v1alpha1.InstanceStatus;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.e2e.harness.E2EEnvironment;
import dev.sharedipc.e2e.harness.E2EExtension;
import dev.sharedipc.e2e.harness.TestNamespace;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * SameNode gang placement against the real kube-scheduler, on nodes each scenario adds for itself
 * (and deletes afterwards): nodes of different capacities, a node drained or deleted under a
 * running instance, an instance that never starts on its node and is placed again whole after
 * {@code scheduling.timeout}, and instances that live through ordinary operations: a member pod
 * deleted and a member's template changed are handled in place, on the instance's node. Every group
 * is confined to its scenario's nodes by a nodeSelector on a label unique to the scenario, so the
 * shared {@code kwok-node-*} nodes are never used.
 */
@ExtendWith(E2EExtension.class)
@Order(1) // with the other scenarios that leave the operator and API server alone
class SameNodePlacementE2E {
  private static final String POOL_LABEL = "sharedipc.dev/e2e-pool";
  private static final String KWOK_ANNOTATION = "kwok.x-k8s.io/node";
  private static final Duration NODE_READY = Duration.ofSeconds(60);

  /**
   * After its node is deleted, the instance's evicted pods stay Terminating (no kubelet confirms)
   * until the pod garbage collector removes them (~60 s here: its 40 s quarantine plus its 20 s
   * period); the new pods reuse their names, so they wait for that.
   */
  private static final Duration NODE_LOST = Duration.ofSeconds(150);

  private final List<String> createdNodes = Collections.synchronizedList(new ArrayList<>());
  private KubernetesClient admin;

  @AfterEach
  void deleteNodes() {
    if (admin == null) {
      return;
    }
    for (String node : createdNodes) {
      admin.nodes().withName(node).delete();
    }
    for (String node : createdNodes) {
      await("node " + node + " deleted")
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Groups.POLL)
          .until(() -> admin.nodes().withName(node).get() == null);
    }
  }

  /**
   * A small node (1 CPU, 1Gi) and a big one (8 CPU, 16Gi); each instance needs 10Gi (two members of
   * 4Gi, plus 2Gi of shared memory accounted to one of them). Instance 0 goes whole to the big
   * node; instance 1 fits neither (the big one has 6Gi left, the small one 1Gi) and waits, with no
   * pod at all, as {@code Placed=False, NoNodeFits}, naming what each node lacks.
   */
  @Test
  void instancesLandWholeOnANodeThatFitsAndTheRestWaitNamingTheShortfall(
      E2EEnvironment env, TestNamespace ns) {
    admin = env.admin();
    String pool = pool();
    String small = addKwokNode("small", pool, "1", "1Gi");
    String big = addKwokNode("big", pool, "8", "16Gi");
    Groups groups = new Groups(admin, ns.name());
    create(groups, ns, group("sized", 2, pool, "60s", "4Gi", "2Gi"));

    await("instance 0 Running on " + big + ", instance 1 waiting with NoNodeFits")
        .atMost(Groups.CONVERGE)
        .pollInterval(Groups.POLL)
        .untilAsserted(() -> assertSizedPlacement(groups, big, small));
    // And it stays so: nothing is half-placed, nothing moves, instance 1 gets no pod.
    await("placement stable")
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Groups.POLL)
        .untilAsserted(() -> assertSizedPlacement(groups, big, small));
  }

  private static void assertSizedPlacement(Groups groups, String big, String small) {
    SharedIpcGroup current = groups.get("sized");
    assertThat(current.getStatus()).isNotNull();
    assertThat(current.getStatus().getObservedGeneration())
        .isEqualTo(current.getMetadata().getGeneration());
    assertThat(current.getStatus().getReadyInstances()).as("status.readyInstances").isEqualTo(1);
    Map<String, Pod> pods = groups.pods("sized");
    assertThat(pods.keySet())
        .as("pods")
        .containsExactlyInAnyOrder("sized-0-producer", "sized-0-consumer");
    assertThat(pods.values())
        .allSatisfy(
            p -> {
              assertThat(p.getSpec().getNodeName())
                  .as("node of %s", p.getMetadata().getName())
                  .isEqualTo(big);
              assertThat(p.getStatus().getPhase())
                  .as("phase of %s", p.getMetadata().getName())
                  .isEqualTo("Running");
            });
    Condition placed = Groups.condition(current, "Placed");
    assertThat(placed.getStatus()).as("Placed: %s", placed.getMessage()).isEqualTo("False");
    assertThat(placed.getReason()).isEqualTo("NoNodeFits");
    assertThat(placed.getMessage())
        .as("Placed message")
        .contains("instance 1", big + " lacks memory", small + " lacks");
    InstanceStatus one = instance(current, 1);
    assertThat(one.getNode()).as("status.instances[1].node").isNull();
    assertThat(one.getPhase())
        .as("status.instances[1].phase (%s)", one.getMessage())
        .isEqualTo("Pending");
    assertThat(one.getMessage()).as("status.instances[1].message").contains("lacks memory");
    assertThat(instance(current, 0).getNode()).as("status.instances[0].node").isEqualTo(big);
  }

  /**
   * Three equal nodes. The instance's node is cordoned and one of its pods deleted (a drain
   * midway): the operator evicts the rest ({@code NodeUnavailable}) and places the instance whole
   * on another node. That node is then deleted: {@code NodeLost}, and the instance comes back whole
   * on the third node. At no time are the instance's live pods on two nodes.
   */
  @Test
  void aDrainedOrDeletedNodeMovesItsInstanceWhole(E2EEnvironment env, TestNamespace ns) {
    admin = env.admin();
    String pool = pool();
    Set<String> nodes = new LinkedHashSet<>();
    for (String n : List.of("a", "b", "c")) {
      nodes.add(addKwokNode(n, pool, "8", "16Gi"));
    }
    Groups groups = new Groups(admin, ns.name());
    try (SplitWatch watch = new SplitWatch(admin, ns.name(), null)) {
      create(groups, ns, group("mover", 1, pool, "60s", "256Mi", "64Mi"));
      String first = awaitWholeOnOneNode(groups, "mover", nodes, Groups.CONVERGE);

      admin
          .nodes()
          .withName(first)
          .edit(n -> new NodeBuilder(n).editSpec().withUnschedulable(true).endSpec().build());
      admin.pods().inNamespace(ns.name()).withName("mover-0-consumer").delete();
      Set<String> rest = new LinkedHashSet<>(nodes);
      rest.remove(first);
      String second = awaitWholeOnOneNode(groups, "mover", rest, Groups.CONVERGE);
      assertThat(events(admin, ns, "NodeUnavailable"))
          .as("NodeUnavailable Events")
          .isNotEmpty()
          .allSatisfy(e -> assertThat(e.getMessage()).contains(first, "cordoned"));

      admin.nodes().withName(second).delete();
      rest.remove(second);
      String third = awaitWholeOnOneNode(groups, "mover", rest, NODE_LOST);
      assertThat(third).isNotIn(first, second);
      assertThat(events(admin, ns, "NodeLost"))
          .as("NodeLost Events")
          .isNotEmpty()
          .allSatisfy(e -> assertThat(e.getMessage()).contains(second, "is gone"));
      assertThat(watch.splits())
          .as("moments when instance 0's live pods were on two nodes")
          .isEmpty();
      assertThat(watch.nodesSeen("0"))
          .as("nodes instance 0 was pinned to, in order")
          .containsExactly(first, second, third);
    }
  }

  /**
   * A node that the scheduler may use but where nothing ever runs (not managed by KWOK: a kubelet
   * that accepts pods and never starts them, but confirms their deletion), with the most free
   * memory, so it is the operator's first choice; and a KWOK node. With {@code scheduling.timeout:
   * 10s} the instance is evicted whole from the dead node ({@code PlacementTimedOut}) and placed
   * whole on the KWOK node, where it runs. A watch on the pods proves that at no moment were the
   * instance's live pods split across the two nodes.
   */
  @Test
  void aTimeoutPlacesTheWholeInstanceAgainElsewhere(E2EEnvironment env, TestNamespace ns) {
    admin = env.admin();
    String pool = pool();
    String dead = addDeadNode(pool, "8", "64Gi");
    String alive = addKwokNode("alive", pool, "8", "16Gi");
    Groups groups = new Groups(admin, ns.name());
    try (SplitWatch watch = new SplitWatch(admin, ns.name(), dead)) {
      Instant created = Instant.now();
      create(groups, ns, group("retry", 1, pool, "10s", "256Mi", "64Mi"));
      await("instance 0 bound to " + dead)
          .atMost(Groups.CONVERGE)
          .pollInterval(Groups.POLL)
          .until(() -> watch.nodesSeen("0").contains(dead));
      String node = awaitWholeOnOneNode(groups, "retry", Set.of(alive), Groups.CONVERGE);
      assertThat(node).isEqualTo(alive);
      List<Event> timedOut = events(admin, ns, "PlacementTimedOut");
      assertThat(timedOut)
          .as("PlacementTimedOut Events")
          .isNotEmpty()
          .allSatisfy(e -> assertThat(e.getMessage()).contains(dead, "10s"));
      assertThat(Duration.between(created, Instant.now()))
          .as("time to run elsewhere")
          .isGreaterThanOrEqualTo(Duration.ofSeconds(5));
      assertThat(watch.splits())
          .as("moments when instance 0's live pods were on two nodes")
          .isEmpty();
      assertThat(watch.nodesSeen("0"))
          .as("nodes instance 0 was pinned to, in order")
          .containsExactly(dead, alive);
      assertThat(watch.ranOn(dead)).as("pods that ran on the dead node").isEmpty();
    }
  }

  /**
   * An instance that has run longer than its 10 s timeout (the floor) loses one member pod ({@code
   * kubectl delete pod}): the member is created again on the instance's node and the other member
   * keeps running, same pod UID; the instance never moves and nothing says it timed out.
   */
  @Test
  void aDeletedMemberComesBackOnItsNodeWhileTheOtherKeepsRunning(
      E2EEnvironment env, TestNamespace ns) {
    admin = env.admin();
    String pool = pool();
    Set<String> nodes =
        Set.of(addKwokNode("a", pool, "4", "8Gi"), addKwokNode("b", pool, "4", "8Gi"));
    Groups groups = new Groups(admin, ns.name());
    try (SplitWatch watch = new SplitWatch(admin, ns.name(), null)) {
      create(groups, ns, group("healer", 1, pool, "10s", "256Mi", "64Mi"));
      String home = awaitWholeOnOneNode(groups, "healer", nodes, Groups.CONVERGE);
      awaitOlderThan(groups.pods("healer").values(), Duration.ofSeconds(11));
      Map<String, String> before = Groups.uids(groups.pods("healer"));

      admin.pods().inNamespace(ns.name()).withName("healer-0-consumer").delete();

      await("healer-0-consumer re-created on " + home)
          .atMost(Groups.CONVERGE)
          .pollInterval(Groups.POLL)
          .untilAsserted(
              () -> {
                assertThat(assertWholeOnOneNode(groups, "healer", Set.of(home))).isEqualTo(home);
                assertThat(Groups.uids(groups.pods("healer")).get("healer-0-consumer"))
                    .isNotEqualTo(before.get("healer-0-consumer"));
              });
      assertThat(Groups.uids(groups.pods("healer")))
          .as("the producer kept running: same pod")
          .containsEntry("healer-0-producer", before.get("healer-0-producer"));
      assertThat(watch.nodesSeen("0"))
          .as("nodes instance 0 was pinned to, in order")
          .containsExactly(home);
      assertThat(events(admin, ns, "PlacementTimedOut")).as("PlacementTimedOut Events").isEmpty();
      assertThat(events(admin, ns, "NodeUnavailable")).as("NodeUnavailable Events").isEmpty();
      assertThat(instance(groups.get("healer"), 0).getFirstWholeAt())
          .as("status.instances[0].firstWholeAt")
          .isNotNull();
    }
  }

  /**
   * Three instances that have run past their timeout; one member's image changes. Each old pod of
   * that member is held Terminating for a while by a finalizer (a kubelet that takes its time, as a
   * real one does: KWOK deletes at once). Only that member's pods are replaced, each on its
   * instance's node, one instance at a time: a watch sees at least {@code replicas-1} instances
   * whole and Ready at every moment, and the other member's pods keep their UIDs.
   */
  @Test
  void aTemplateChangeOfOneMemberReplacesOnlyItsPodsInstanceByInstance(
      E2EEnvironment env, TestNamespace ns) {
    admin = env.admin();
    String pool = pool();
    for (String n : List.of("a", "b", "c")) {
      addKwokNode(n, pool, "4", "8Gi");
    }
    int replicas = 3;
    Groups groups = new Groups(admin, ns.name());
    create(groups, ns, group("rolling", replicas, pool, "10s", "256Mi", "64Mi"));
    await("rolling Ready")
        .atMost(Groups.CONVERGE)
        .pollInterval(Groups.POLL)
        .untilAsserted(
            () -> {
              SharedIpcGroup current = groups.get("rolling");
              assertThat(current.getStatus()).isNotNull();
              assertThat(current.getStatus().getReadyInstances()).isEqualTo(replicas);
              assertThat(groups.pods("rolling"))
                  .hasSize(2 * replicas)
                  .allSatisfy((name, p) -> assertThat(Groups.isReady(p)).isTrue());
            });
    awaitOlderThan(groups.pods("rolling").values(), Duration.ofSeconds(11));
    Map<String, Pod> before = groups.pods("rolling");
    for (Pod pod : before.values()) {
      if (pod.getMetadata().getName().endsWith("-consumer")) {
        admin
            .pods()
            .inNamespace(ns.name())
            .withName(pod.getMetadata().getName())
            .edit(
                p ->
                    new io.fabric8.kubernetes.api.model.PodBuilder(p)
                        .editMetadata()
                        .addToFinalizers(HOLD)
                        .endMetadata()
                        .build());
      }
    }
    Map<String, Instant> terminatingSince = new ConcurrentHashMap<>();
    try (Groups.WholeInstances whole = new Groups.WholeInstances(admin, ns.name(), "rolling", 2)) {
      groups
          .api()
          .inNamespace(ns.name())
          .withName("rolling")
          .edit(
              g -> {
                g.getSpec()
                    .getMembers()
                    .get(1)
                    .getTemplate()
                    .getSpec()
                    .getContainers()
                    .get(0)
                    .setImage("busybox:1.37");
                return g;
              });
      await("every consumer replaced on its node, the producers untouched")
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Groups.POLL)
          .untilAsserted(
              () -> {
                releaseAfter(ns, terminatingSince, Duration.ofSeconds(2));
                Map<String, Pod> now = groups.pods("rolling");
                assertThat(now.keySet()).isEqualTo(before.keySet());
                for (Pod pod : now.values()) {
                  String name = pod.getMetadata().getName();
                  assertThat(pod.getSpec().getNodeName())
                      .as("node of %s", name)
                      .isEqualTo(before.get(name).getSpec().getNodeName());
                  assertThat(Groups.isReady(pod)).as("%s Ready", name).isTrue();
                  if (name.endsWith("-consumer")) {
                    assertThat(pod.getMetadata().getUid())
                        .as("%s replaced", name)
                        .isNotEqualTo(before.get(name).getMetadata().getUid());
                    assertThat(pod.getSpec().getContainers().get(0).getImage())
                        .isEqualTo("busybox:1.37");
                  } else {
                    assertThat(pod.getMetadata().getUid())
                        .as("%s untouched", name)
                        .isEqualTo(before.get(name).getMetadata().getUid());
                  }
                }
              });
      assertThat(whole.fewest())
          .as("whole Ready instances at the worst moment of the rollout: %s", whole.worstMoment())
          .isGreaterThanOrEqualTo(replicas - 1);
    } finally {
      releaseAfter(ns, terminatingSince, Duration.ZERO);
      for (Pod pod : groups.pods("rolling").values()) {
        if (pod.getMetadata().getFinalizers() != null
            && pod.getMetadata().getFinalizers().contains(HOLD)) {
          unhold(ns, pod.getMetadata().getName());
        }
      }
    }
    assertThat(terminatingSince.keySet())
        .as("old consumers held while terminating")
        .hasSize(replicas);
    assertThat(events(admin, ns, "PlacementTimedOut")).as("PlacementTimedOut Events").isEmpty();
  }

  /** Finalizer standing in for a kubelet's graceful termination. */
  private static final String HOLD = "e2e.sharedipc.dev/slow-kubelet";

  /**
   * Releases each held pod once it has been terminating for {@code hold}: a kubelet that took that
   * long to stop it.
   */
  private void releaseAfter(
      TestNamespace ns, Map<String, Instant> terminatingSince, Duration hold) {
    for (Pod pod : admin.pods().inNamespace(ns.name()).list().getItems()) {
      if (pod.getMetadata().getDeletionTimestamp() == null
          || pod.getMetadata().getFinalizers() == null
          || !pod.getMetadata().getFinalizers().contains(HOLD)) {
        continue;
      }
      Instant since =
          terminatingSince.computeIfAbsent(
              pod.getMetadata().getName() + "/" + pod.getMetadata().getUid(), k -> Instant.now());
      if (!Instant.now().isBefore(since.plus(hold))) {
        unhold(ns, pod.getMetadata().getName());
      }
    }
  }

  private void unhold(TestNamespace ns, String pod) {
    try {
      admin
          .pods()
          .inNamespace(ns.name())
          .withName(pod)
          .edit(
              p ->
                  new io.fabric8.kubernetes.api.model.PodBuilder(p)
                      .editMetadata()
                      .removeFromFinalizers(HOLD)
                      .endMetadata()
                      .build());
    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
      // Gone already, or changed meanwhile: the next poll looks again.
    }
  }

  /**
   * Waits until every pod is older than {@code age}: instances that have run past their timeout.
   */
  private static void awaitOlderThan(java.util.Collection<Pod> pods, Duration age) {
    Instant newest =
        pods.stream()
            .map(p -> Instant.parse(p.getMetadata().getCreationTimestamp()))
            .max(Instant::compareTo)
            .orElseThrow();
    await("pods older than " + age)
        .atMost(age.plus(Groups.CONVERGE))
        .pollInterval(Groups.POLL)
        .until(() -> Instant.now().isAfter(newest.plus(age)));
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * Waits until the group's only instance is Running, both members Ready on one node of {@code
   * allowed}; returns it.
   */
  private static String awaitWholeOnOneNode(
      Groups groups, String name, Set<String> allowed, Duration atMost) {
    String[] node = new String[1];
    await(name + " whole on one of " + allowed)
        .atMost(atMost)
        .pollInterval(Groups.POLL)
        .untilAsserted(() -> node[0] = assertWholeOnOneNode(groups, name, allowed));
    return node[0];
  }

  /**
   * The group's only instance is Running, both members Ready on one node of {@code allowed};
   * returns it.
   */
  private static String assertWholeOnOneNode(Groups groups, String name, Set<String> allowed) {
    SharedIpcGroup current = groups.get(name);
    assertThat(current.getStatus()).isNotNull();
    assertThat(current.getStatus().getReadyInstances()).as("status.readyInstances").isEqualTo(1);
    assertThat(Groups.condition(current, "Placed").getStatus())
        .as("Placed: %s", Groups.condition(current, "Placed").getMessage())
        .isEqualTo("True");
    Map<String, Pod> pods = groups.pods(name);
    assertThat(pods.keySet()).containsExactlyInAnyOrder(name + "-0-producer", name + "-0-consumer");
    assertThat(pods.values())
        .allSatisfy(
            p -> {
              assertThat(p.getMetadata().getDeletionTimestamp()).isNull();
              assertThat(Groups.isReady(p)).as("%s Ready", p.getMetadata().getName()).isTrue();
            });
    Set<String> on =
        pods.values().stream().map(p -> p.getSpec().getNodeName()).collect(Collectors.toSet());
    assertThat(on).hasSize(1);
    assertThat(allowed).contains(on.iterator().next());
    assertThat(instance(current, 0).getNode()).isEqualTo(on.iterator().next());
    return on.iterator().next();
  }

  /**
   * The node a pod is bound to, else the node its required node affinity pins it to (as the
   * operator writes it).
   */
  static String pinnedNode(Pod pod) {
    if (pod.getSpec().getNodeName() != null) {
      return pod.getSpec().getNodeName();
    }
    var affinity = pod.getSpec().getAffinity();
    if (affinity == null
        || affinity.getNodeAffinity() == null
        || affinity.getNodeAffinity().getRequiredDuringSchedulingIgnoredDuringExecution() == null) {
      return null;
    }
    for (var term :
        affinity
            .getNodeAffinity()
            .getRequiredDuringSchedulingIgnoredDuringExecution()
            .getNodeSelectorTerms()) {
      for (var field :
          term.getMatchFields() == null
              ? List.<io.fabric8.kubernetes.api.model.NodeSelectorRequirement>of()
              : term.getMatchFields()) {
        if ("metadata.name".equals(field.getKey())
            && "In".equals(field.getOperator())
            && field.getValues().size() == 1) {
          return field.getValues().get(0);
        }
      }
    }
    return null;
  }

  private static InstanceStatus instance(SharedIpcGroup group, int index) {
    return group.getStatus().getInstances().stream()
        .filter(i -> Objects.equals(i.getIndex(), index))
        .findFirst()
        .orElseThrow();
  }

  private static List<Event> events(KubernetesClient admin, TestNamespace ns, String reason) {
    return admin.v1().events().inNamespace(ns.name()).list().getItems().stream()
        .filter(e -> reason.equals(e.getReason()))
        .toList();
  }

  private static String pool() {
    return "p" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffffL);
  }

  private static SharedIpcGroup group(
      String name, int replicas, String pool, String timeout, String memberMemory, String shared) {
    return Serialization.unmarshal(
        """
        apiVersion: sharedipc.dev/v1alpha1
        kind: SharedIpcGroup
        metadata:
          name: %1$s
        spec:
          replicas: %2$d
          placement: SameNode
          sharedMemory: {size: %6$s, mountPath: /frames, accountTo: producer}
          scheduling: {timeout: %4$s}
          members:
            - name: producer
              template: {spec: {nodeSelector: {%3$s: %7$s}, containers: [{name: producer, image: busybox:1.36, command: [sh, -c, "sleep infinity"],
                resources: {requests: {cpu: 100m, memory: %5$s}, limits: {memory: %5$s}}}]}}
            - name: consumer
              template: {spec: {nodeSelector: {%3$s: %7$s}, containers: [{name: consumer, image: busybox:1.36, command: [sh, -c, "sleep infinity"],
                resources: {requests: {cpu: 100m, memory: %5$s}, limits: {memory: %5$s}}}]}}
        """
            .formatted(name, replicas, POOL_LABEL, timeout, memberMemory, shared, pool),
        SharedIpcGroup.class);
  }

  private static void create(Groups groups, TestNamespace ns, SharedIpcGroup group) {
    group.getMetadata().setNamespace(ns.name());
    groups.api().inNamespace(ns.name()).resource(group).create();
  }

  /**
   * A KWOK-managed node, as scripts/local-cluster.sh makes them, with this test's pool label; Ready
   * and untainted.
   */
  private String addKwokNode(String role, String pool, String cpu, String memory) {
    String name = "e2e-" + pool + "-" + role;
    Node node =
        nodeBuilder(name, pool, cpu, memory)
            .editMetadata()
            .addToAnnotations(KWOK_ANNOTATION, "fake")
            .endMetadata()
            .build();
    createdNodes.add(name);
    admin.nodes().resource(node).create();
    awaitSchedulable(name);
    return name;
  }

  /**
   * A node no KWOK controller manages: Ready as created, so the scheduler binds pods to it, but
   * nothing ever makes them run.
   */
  private String addDeadNode(String pool, String cpu, String memory) {
    String name = "e2e-" + pool + "-dead";
    createdNodes.add(name);
    admin.nodes().resource(nodeBuilder(name, pool, cpu, memory).build()).create();
    // The node lifecycle controller writes to the new node too: retry on conflicts.
    await("node " + name + " reports Ready")
        .atMost(NODE_READY)
        .pollInterval(Groups.POLL)
        .ignoreException(io.fabric8.kubernetes.client.KubernetesClientException.class)
        .until(
            () -> {
              String now = Instant.now().toString();
              admin
                  .nodes()
                  .withName(name)
                  .editStatus(
                      n -> {
                        n.getStatus()
                            .setConditions(
                                List.of(
                                    new NodeCondition(
                                        now,
                                        now,
                                        "kubelet is posting ready status",
                                        "KubeletReady",
                                        "True",
                                        "Ready")));
                        n.getStatus().setCapacity(resources(cpu, memory));
                        n.getStatus().setAllocatable(resources(cpu, memory));
                        return n;
                      });
              return true;
            });
    awaitSchedulable(name);
    return name;
  }

  private static NodeBuilder nodeBuilder(String name, String pool, String cpu, String memory) {
    return new NodeBuilder()
        .withNewMetadata()
        .withName(name)
        .addToAnnotations("node.alpha.kubernetes.io/ttl", "0")
        .addToLabels(POOL_LABEL, pool)
        .addToLabels("kubernetes.io/hostname", name)
        .addToLabels("kubernetes.io/os", "linux")
        .addToLabels("kubernetes.io/arch", "amd64")
        .endMetadata()
        .withNewStatus()
        .addNewAddress("127.0.0.1", "InternalIP")
        .addNewAddress(name, "Hostname")
        .withCapacity(resources(cpu, memory))
        .withAllocatable(resources(cpu, memory))
        .endStatus();
  }

  private static Map<String, Quantity> resources(String cpu, String memory) {
    return Map.of(
        "cpu", new Quantity(cpu), "memory", new Quantity(memory), "pods", new Quantity("110"));
  }

  /**
   * Ready, with the capacity asked for, and no taint (the not-ready taint of a new node is gone).
   */
  private void awaitSchedulable(String name) {
    await("node " + name + " Ready and untainted")
        .atMost(NODE_READY)
        .pollInterval(Groups.POLL)
        .untilAsserted(
            () -> {
              Node node = admin.nodes().withName(name).get();
              assertThat(node.getStatus().getConditions())
                  .as("conditions of %s", name)
                  .anySatisfy(
                      c -> assertThat(c.getType() + "=" + c.getStatus()).isEqualTo("Ready=True"));
              assertThat(node.getSpec().getTaints()).as("taints of %s", name).isNullOrEmpty();
              assertThat(node.getStatus().getAllocatable()).containsKey("memory");
            });
  }

  /**
   * Watches the namespace's pods for the whole scenario: after every change, the live (not
   * terminating) pods of each instance must be pinned to at most one node. Records the nodes each
   * instance was pinned to, in order, and the pods that ever ran on a node. For the dead node (if
   * any) it plays the part of a kubelet that confirms deletions: a pod deleted there is removed at
   * once.
   */
  private static final class SplitWatch implements AutoCloseable {
    private final KubernetesClient client;
    private final String dead;
    private final SharedIndexInformer<Pod> informer;
    private final Map<String, Pod> live = new ConcurrentHashMap<>();
    private final List<String> splits = Collections.synchronizedList(new ArrayList<>());
    private final Map<String, List<String>> nodesSeen = new ConcurrentHashMap<>();
    private final Map<String, Set<String>> ranOn = new ConcurrentHashMap<>();

    SplitWatch(KubernetesClient client, String ns, String dead) {
      this.client = client;
      this.dead = dead;
      this.informer =
          client
              .pods()
              .inNamespace(ns)
              .inform(
                  new ResourceEventHandler<>() {
                    @Override
                    public void onAdd(Pod pod) {
                      seen(pod);
                    }

                    @Override
                    public void onUpdate(Pod old, Pod pod) {
                      seen(pod);
                    }

                    @Override
                    public void onDelete(Pod pod, boolean unknown) {
                      live.remove(pod.getMetadata().getName());
                      check();
                    }
                  });
      try {
        informer.start().toCompletableFuture().get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new IllegalStateException("pod watch did not start", e);
      }
    }

    private synchronized void seen(Pod pod) {
      String name = pod.getMetadata().getName();
      String node = pinnedNode(pod);
      if (pod.getStatus() != null
          && "Running".equals(pod.getStatus().getPhase())
          && pod.getSpec().getNodeName() != null) {
        ranOn
            .computeIfAbsent(pod.getSpec().getNodeName(), k -> ConcurrentHashMap.newKeySet())
            .add(name);
      }
      if (pod.getMetadata().getDeletionTimestamp() != null) {
        live.remove(name);
        if (dead != null && dead.equals(pod.getSpec().getNodeName())) {
          client
              .pods()
              .inNamespace(pod.getMetadata().getNamespace())
              .withName(name)
              .withGracePeriod(0)
              .delete();
        }
      } else {
        live.put(name, pod);
        String instance =
            pod.getMetadata().getLabels() == null
                ? null
                : pod.getMetadata().getLabels().get(Labels.INSTANCE);
        if (instance != null && node != null) {
          List<String> seq =
              nodesSeen.computeIfAbsent(
                  instance, k -> Collections.synchronizedList(new ArrayList<>()));
          if (seq.isEmpty() || !seq.get(seq.size() - 1).equals(node)) {
            seq.add(node);
          }
        }
      }
      check();
    }

    private synchronized void check() {
      Map<String, Set<String>> byInstance = new HashMap<>();
      for (Pod pod : live.values()) {
        String instance =
            pod.getMetadata().getLabels() == null
                ? null
                : pod.getMetadata().getLabels().get(Labels.INSTANCE);
        String node = pinnedNode(pod);
        if (instance != null && node != null) {
          byInstance.computeIfAbsent(instance, k -> new LinkedHashSet<>()).add(node);
        }
      }
      byInstance.forEach(
          (instance, nodes) -> {
            if (nodes.size() > 1) {
              splits.add(
                  "instance "
                      + instance
                      + " on "
                      + nodes
                      + " at "
                      + Instant.now()
                      + ": "
                      + live.values().stream()
                          .map(p -> p.getMetadata().getName() + "@" + pinnedNode(p))
                          .toList());
            }
          });
    }

    List<String> splits() {
      return List.copyOf(splits);
    }

    List<String> nodesSeen(String instance) {
      List<String> seq = nodesSeen.get(instance);
      return seq == null ? List.of() : List.copyOf(seq);
    }

    Set<String> ranOn(String node) {
      return ranOn.getOrDefault(node, Set.of());
    }

    @Override
    public void close() {
      informer.close();
    }
  }
}
