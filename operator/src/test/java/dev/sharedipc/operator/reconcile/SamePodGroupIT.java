package dev.sharedipc.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.api.Labels;
import dev.sharedipc.api.RepoPaths;
import dev.sharedipc.api.testing.RealApiServer;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.operator.DumpOnFailure;
import dev.sharedipc.operator.FakeKubelet;
import dev.sharedipc.operator.Fixtures;
import dev.sharedipc.operator.GroupsInNamespace;
import dev.sharedipc.operator.RunningOperator;
import dev.sharedipc.operator.runtime.OperatorRuntime;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * SamePod groups reconciled end to end by the real operator runtime on a real kube-apiserver (with
 * the real garbage collector). Pods get status from {@link FakeKubelet}, as a kubelet would.
 */
class SamePodGroupIT {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static RealApiServer api;
  private static KubernetesClient client;
  private static OperatorRuntime operator;
  private static FakeKubelet kubelet;
  private String ns;
  private GroupsInNamespace groups;

  @RegisterExtension final DumpOnFailure dump = new DumpOnFailure(() -> client, () -> ns);

  @BeforeAll
  static void startOperator() {
    api = RealApiServer.shared();
    client = api.client();
    kubelet = new FakeKubelet(client);
    operator = RunningOperator.shared();
  }

  @BeforeEach
  void namespace() {
    ns = api.newNamespace("samepod");
    groups = new GroupsInNamespace(client, ns);
  }

  @Test
  void sampleGroupBecomesOnePodPerInstanceWithSharedMemoryInEveryMember() throws IOException {
    try (InputStream in =
        Files.newInputStream(RepoPaths.root().resolve("samples/market-data-samepod.yaml"))) {
      client.load(in).inNamespace(ns).create();
    }
    List<Pod> pods = awaitPods("market-data", 2);
    for (Pod pod : pods) {
      assertThat(pod.getMetadata().getLabels())
          .containsEntry(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE)
          .containsEntry(Labels.GROUP, "market-data")
          .containsKey(Labels.INSTANCE);
      assertThat(pod.getMetadata().getOwnerReferences())
          .singleElement()
          .satisfies(
              o -> {
                assertThat(o.getKind()).isEqualTo("SharedIpcGroup");
                assertThat(o.getController()).isTrue();
              });
      assertThat(pod.getSpec().getContainers())
          .extracting(Container::getName)
          .containsExactly("feed", "strategy-a", "strategy-b");
      Volume shm =
          pod.getSpec().getVolumes().stream()
              .filter(v -> v.getName().equals("sharedipc-shm"))
              .findFirst()
              .orElseThrow();
      assertThat(shm.getEmptyDir().getMedium()).isEqualTo("Memory");
      assertThat(shm.getEmptyDir().getSizeLimit()).isEqualTo(new Quantity("256Mi"));
      for (Container c : pod.getSpec().getContainers()) {
        assertThat(c.getVolumeMounts())
            .anySatisfy(
                m -> {
                  assertThat(m.getName()).isEqualTo("sharedipc-shm");
                  assertThat(m.getMountPath()).isEqualTo("/dev/shm");
                });
      }
      Container feed = pod.getSpec().getContainers().get(0);
      assertThat(feed.getResources().getLimits().get("memory")).isEqualTo(new Quantity("512Mi"));
      assertThat(feed.getResources().getRequests().get("memory")).isEqualTo(new Quantity("384Mi"));
    }
    assertThat(pods)
        .extracting(p -> p.getMetadata().getName())
        .containsExactlyInAnyOrder("market-data-0", "market-data-1");
  }

  @Test
  void statusAndConditionsFollowPodReadiness() {
    groups.create(Fixtures.forCluster("ready", 2, "64Mi"));
    List<Pod> pods = awaitPods("ready", 2);
    groups.awaitCondition("ready", "Placed", "False", "WaitingForScheduler");
    SharedIpcGroup waiting = groups.awaitCondition("ready", "Ready", "False", "InstancesNotReady");
    assertThat(waiting.getStatus().getPhase()).isEqualTo("Pending");
    assertThat(waiting.getStatus().getObservedGeneration())
        .isEqualTo(waiting.getMetadata().getGeneration());
    String memoryTransition =
        GroupsInNamespace.condition(waiting, "MemoryAccounted").getLastTransitionTime();

    kubelet.run(pods.get(0), "node-a", true);
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              SharedIpcGroup g = groups.get("ready");
              assertThat(g.getStatus().getReadyInstances()).isEqualTo(1);
              assertThat(g.getStatus().getPhase()).isEqualTo("Placing");
            });
    kubelet.run(pods.get(1), "node-b", false);
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(groups.get("ready").getStatus().getInstances())
                    .anySatisfy(
                        i -> {
                          assertThat(i.getPhase()).isEqualTo("Running");
                          assertThat(i.getNode()).isEqualTo("node-b");
                          assertThat(i.getMessage()).contains("containers not ready");
                        }));
    kubelet.run(pods.get(1), "node-b", true);
    SharedIpcGroup ready = groups.awaitCondition("ready", "Ready", "True", "AllInstancesReady");
    assertThat(ready.getStatus().getReadyInstances()).isEqualTo(2);
    assertThat(ready.getStatus().getPhase()).isEqualTo("Running");
    assertThat(GroupsInNamespace.condition(ready, "Placed").getStatus()).isEqualTo("True");
    assertThat(ready.getStatus().getConditions())
        .extracting(Condition::getType)
        .containsExactly("Ready", "Placed", "MemoryAccounted", "WithinQuota", "PolicyCompliant");
    assertThat(GroupsInNamespace.condition(ready, "MemoryAccounted").getLastTransitionTime())
        .as("an unchanged condition keeps its transition time")
        .isEqualTo(memoryTransition);
    // The Event follows the status write that says the same: it may come a moment later.
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> assertThat(groups.eventReasons()).contains("PodCreated", "AllInstancesReady"));
  }

  @Test
  void specUpdateRollsOutToEveryInstance() {
    groups.create(Fixtures.forCluster("roll", 2, "64Mi"));
    List<Pod> before = awaitPods("roll", 2);
    before.forEach(p -> kubelet.run(p, "node-a", true));
    groups.awaitCondition("roll", "Ready", "True", "AllInstancesReady");
    Set<String> oldUids =
        before.stream().map(p -> p.getMetadata().getUid()).collect(Collectors.toSet());
    String oldHash =
        before.get(0).getMetadata().getAnnotations().get(Labels.TEMPLATE_HASH_ANNOTATION);

    groups.edit(
        "roll",
        g -> {
          g.getSpec()
              .getMembers()
              .get(0)
              .getTemplate()
              .getSpec()
              .getContainers()
              .get(0)
              .setImage("busybox:1.37");
          return g;
        });
    // Act as the kubelet for every new pod until the whole group runs the new spec.
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(500))
        .untilAsserted(
            () -> {
              kubelet.finishTerminating(ns);
              List<Pod> now = pods("roll");
              for (Pod p : now) {
                if (p.getSpec().getNodeName() == null) {
                  kubelet.run(p, "node-a", true);
                }
              }
              assertThat(now)
                  .hasSize(2)
                  .allSatisfy(
                      p -> {
                        assertThat(p.getMetadata().getUid()).isNotIn(oldUids);
                        assertThat(p.getSpec().getContainers().get(0).getImage())
                            .isEqualTo("busybox:1.37");
                        assertThat(
                                p.getMetadata()
                                    .getAnnotations()
                                    .get(Labels.TEMPLATE_HASH_ANNOTATION))
                            .isNotEqualTo(oldHash);
                      });
            });
    groups.awaitCondition("roll", "Ready", "True", "AllInstancesReady");
    assertThat(groups.eventReasons()).contains("Replacing");
  }

  @Test
  void scalingUpAndDownCreatesAndDeletesInstances() {
    groups.create(Fixtures.forCluster("scale", 1, "64Mi"));
    awaitPods("scale", 1);
    groups.edit(
        "scale",
        g -> {
          g.getSpec().setReplicas(3);
          return g;
        });
    assertThat(awaitPods("scale", 3))
        .extracting(p -> p.getMetadata().getName())
        .containsExactlyInAnyOrder("scale-0", "scale-1", "scale-2");
    // What /scale reads (kubectl scale, autoscalers): the instances that exist, and the pods'
    // selector.
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(200))
        .untilAsserted(
            () -> {
              var status = groups.get("scale").getStatus();
              assertThat(status.getReplicas()).isEqualTo(3);
              assertThat(status.getSelector())
                  .isEqualTo(
                      "app.kubernetes.io/managed-by=sharedipc-operator,sharedipc.dev/group=scale");
            });
    groups.edit(
        "scale",
        g -> {
          g.getSpec().setReplicas(1);
          return g;
        });
    assertThat(awaitPods("scale", 1))
        .extracting(p -> p.getMetadata().getName())
        .containsExactly("scale-0");
    assertThat(groups.eventReasons()).contains("ScaledDown");
  }

  @Test
  void deletingTheGroupRemovesEverythingItOwns() {
    groups.create(Fixtures.forCluster("gone", 2, "64Mi"));
    awaitPods("gone", 2);
    client.resources(SharedIpcGroup.class).inNamespace(ns).withName("gone").delete();
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              assertThat(
                      client.resources(SharedIpcGroup.class).inNamespace(ns).withName("gone").get())
                  .isNull();
              assertThat(pods("gone")).isEmpty();
            });
  }

  @Test
  void foreignPodsWithOurLabelsAreNeverTouched() {
    Map<String, String> ourLabels =
        Map.of(
            Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE, Labels.GROUP, "shy", Labels.INSTANCE, "0");
    Pod squatter = client.pods().inNamespace(ns).resource(foreignPod("shy-0", ourLabels)).create();
    Pod bystander = client.pods().inNamespace(ns).resource(foreignPod("shy-9", ourLabels)).create();

    groups.create(Fixtures.forCluster("shy", 2, "64Mi"));
    SharedIpcGroup blocked = groups.awaitCondition("shy", "Placed", "False", "PodNameTaken");
    assertThat(GroupsInNamespace.condition(blocked, "Placed").getMessage())
        .contains("shy-0")
        .contains("not owned");
    assertThat(client.pods().inNamespace(ns).withName("shy-1").get()).isNotNull();

    groups.edit(
        "shy",
        g -> {
          g.getSpec().setReplicas(0);
          return g;
        });
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> assertThat(client.pods().inNamespace(ns).withName("shy-1").get()).isNull());
    client.resources(SharedIpcGroup.class).inNamespace(ns).withName("shy").delete();
    await()
        .atMost(WAIT)
        .until(
            () ->
                client.resources(SharedIpcGroup.class).inNamespace(ns).withName("shy").get()
                    == null);

    for (Pod foreign : List.of(squatter, bystander)) {
      Pod now = client.pods().inNamespace(ns).withName(foreign.getMetadata().getName()).get();
      assertThat(now)
          .as("foreign pod %s still exists", foreign.getMetadata().getName())
          .isNotNull();
      assertThat(now.getMetadata().getUid()).isEqualTo(foreign.getMetadata().getUid());
      assertThat(now.getMetadata().getResourceVersion())
          .isEqualTo(foreign.getMetadata().getResourceVersion());
    }
  }

  @Test
  void groupWhoseLimitsCannotHoldItsSharedMemorySaysSo() {
    SharedIpcGroup group = Fixtures.forCluster("tight", 1, "1Gi");
    groups.create(group);
    SharedIpcGroup judged =
        groups.awaitCondition("tight", "MemoryAccounted", "False", "PodLimitBelowSharedMemory");
    assertThat(GroupsInNamespace.condition(judged, "MemoryAccounted").getMessage())
        .contains("ENOSPC")
        .contains("OOM")
        .contains("accountTo");
    assertThat(groups.eventReasons()).contains("PodLimitBelowSharedMemory");

    groups.edit(
        "tight",
        g -> {
          g.getSpec().getSharedMemory().setAccountTo("writer");
          return g;
        });
    groups.awaitCondition("tight", "MemoryAccounted", "True", "AccountedToMember");
  }

  @Test
  void conflictingMemberTemplatesGetAConditionAnEventAndNoPods() throws Exception {
    SharedIpcGroup group = Fixtures.forCluster("clash", 1, "64Mi");
    group
        .getSpec()
        .getMembers()
        .get(1)
        .getTemplate()
        .getSpec()
        .getContainers()
        .get(0)
        .setName("writer");
    groups.create(group);
    SharedIpcGroup judged =
        groups.awaitCondition("clash", "Placed", "False", "InvalidMemberTemplates");
    assertThat(judged.getStatus().getPhase()).isEqualTo("Failed");
    assertThat(GroupsInNamespace.condition(judged, "Placed").getMessage())
        .contains("both have a container named writer");
    assertThat(groups.eventReasons()).contains("InvalidMemberTemplates");
    assertThat(pods("clash")).isEmpty();

    // No hot loop: an invalid group is judged once per change, not retried over and over.
    double before = reconciliations();
    Thread.sleep(3000);
    assertThat(reconciliations() - before).isLessThanOrEqualTo(2);
  }

  @Test
  void aPodTheApiServerRefusesIsReportedNotRetriedHot() throws Exception {
    SharedIpcGroup group = Fixtures.forCluster("refused", 1, "64Mi");
    group
        .getSpec()
        .getMembers()
        .get(0)
        .getTemplate()
        .getSpec()
        .getContainers()
        .get(0)
        .getResources()
        .setRequests(new java.util.HashMap<>(Map.of("memory", new Quantity("1Gi"))));
    groups.create(group);
    SharedIpcGroup judged = groups.awaitCondition("refused", "Placed", "False", "PodRejected");
    assertThat(GroupsInNamespace.condition(judged, "Placed").getMessage())
        .contains("refused pod refused-0")
        .contains("must be less than or equal to memory limit");
    assertThat(groups.eventReasons()).contains("PodRejected").doesNotContain("ReconcileFailed");
    double before = reconciliations();
    Thread.sleep(3000);
    assertThat(reconciliations() - before).isLessThanOrEqualTo(2);

    groups.edit(
        "refused",
        g -> {
          g.getSpec()
              .getMembers()
              .get(0)
              .getTemplate()
              .getSpec()
              .getContainers()
              .get(0)
              .getResources()
              .getRequests()
              .put("memory", new Quantity("64Mi"));
          return g;
        });
    awaitPods("refused", 1);
  }

  @Test
  void operatorServesHealthReadinessAndMetrics() throws Exception {
    await().atMost(WAIT).until(operator::isStarted);
    assertThat(http("/healthz").statusCode()).isEqualTo(200);
    assertThat(http("/readyz").statusCode()).isEqualTo(200);
    HttpResponse<String> metrics = http("/metrics");
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.body())
        .contains("# TYPE sharedipc_operator_reconciliations_total counter")
        .contains("sharedipc_operator_reconcile_duration_seconds_bucket")
        .contains("sharedipc_operator_controllers_started 1");
  }

  // ---- helpers ----

  private static Pod foreignPod(String name, Map<String, String> labels) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withLabels(labels)
        .endMetadata()
        .withNewSpec()
        .addNewContainer()
        .withName("c")
        .withImage("busybox")
        .endContainer()
        .endSpec()
        .build();
  }

  private List<Pod> pods(String group) {
    return client.pods().inNamespace(ns).withLabel(Labels.GROUP, group).list().getItems().stream()
        .filter(
            p ->
                p.getMetadata().getOwnerReferences() != null
                    && !p.getMetadata().getOwnerReferences().isEmpty())
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .toList();
  }

  private List<Pod> awaitPods(String group, int count) {
    await().atMost(WAIT).until(() -> pods(group).size() == count);
    return pods(group);
  }

  private static HttpResponse<String> http(String path) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + operator.httpPort() + path))
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  private static double reconciliations() throws Exception {
    return http("/metrics")
        .body()
        .lines()
        .filter(l -> l.startsWith("sharedipc_operator_reconciliations_total{"))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }
}
