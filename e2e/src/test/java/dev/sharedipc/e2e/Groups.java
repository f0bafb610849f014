package dev.sharedipc.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.api.Labels;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.e2e.harness.E2EEnvironment;
import dev.sharedipc.e2e.harness.LocalControlPlane;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.KubernetesResourceList;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/** Groups and their pods, as the scenarios create, read and judge them. */
final class Groups {
  /** How long a group may take to converge: KWOK runs pods in well under a second. */
  static final Duration CONVERGE = Duration.ofSeconds(60);

  static final Duration POLL = Duration.ofMillis(250);

  /**
   * How the API server words an RBAC refusal ({@code User "..." cannot create resource "pods"
   * ...}); unlike other 403s, e.g. creating in a namespace that is being deleted, which the
   * operator meets when a test's namespace goes away under a group.
   */
  static final java.util.regex.Pattern RBAC_DENIAL =
      java.util.regex.Pattern.compile("User \\\\?\"[^\"\\\\]+\\\\?\" cannot [a-z]+ resource");

  /**
   * A log line of the operator begins with its instant, as operator/src/main/resources/logback.xml
   * writes it.
   */
  private static final java.util.regex.Pattern LOG_INSTANT =
      java.util.regex.Pattern.compile("^(\\d{4}-\\d\\d-\\d\\dT[0-9:.]+(Z|[+-]\\d\\d(:?\\d\\d)?)) ");

  private static final java.time.format.DateTimeFormatter LOG_FORMAT =
      java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSX");

  /** Between the API server answering the request and the operator writing its log line. */
  private static final Duration LOG_DELAY = Duration.ofSeconds(2);

  /**
   * The RBAC refusals in every log of the operator in this run, except those the API server gave
   * while it restarted: it serves requests before its RBAC informers have synced and refuses them
   * then (kubernetes/kubernetes#121635), which says nothing about deploy/'s RBAC. A line without an
   * instant (a stack trace) counts with the line it continues.
   */
  static List<String> rbacDenials(E2EEnvironment env) {
    List<LocalControlPlane.Outage> restarts = env.cluster().apiServerRestarts();
    List<String> denials = new java.util.ArrayList<>();
    java.time.Instant at = null;
    for (String line : env.operator().allLogs().split("\n")) {
      java.util.regex.Matcher instant = LOG_INSTANT.matcher(line);
      if (instant.find()) {
        at = java.time.OffsetDateTime.parse(instant.group(1), LOG_FORMAT).toInstant();
      }
      java.time.Instant when = at;
      if (RBAC_DENIAL.matcher(line).find()
          && (when == null || restarts.stream().noneMatch(r -> r.covers(when, LOG_DELAY)))) {
        denials.add(line);
      }
    }
    return denials;
  }

  private final KubernetesClient client;
  private final String ns;

  Groups(KubernetesClient client, String ns) {
    this.client = client;
    this.ns = ns;
  }

  MixedOperation<SharedIpcGroup, KubernetesResourceList<SharedIpcGroup>, Resource<SharedIpcGroup>>
      api() {
    return client.resources(SharedIpcGroup.class);
  }

  /** A group from a file of samples/, created in the test namespace. */
  SharedIpcGroup createFromSample(Path sample) {
    try (InputStream in = Files.newInputStream(sample)) {
      SharedIpcGroup group = api().load(in).item();
      group.getMetadata().setNamespace(ns);
      return api().inNamespace(ns).resource(group).create();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A small SamePod group: a writer and a reader sharing 64Mi, accounted to the writer; the
   * requests are tiny so that many instances fit the simulated nodes.
   */
  SharedIpcGroup createSmall(String name, int replicas) {
    return create(small(name, replicas));
  }

  /** Creates {@code group} in the test namespace. */
  SharedIpcGroup create(SharedIpcGroup group) {
    group.getMetadata().setNamespace(ns);
    return api().inNamespace(ns).resource(group).create();
  }

  /** The group {@link #createSmall} creates, not yet created anywhere. */
  static SharedIpcGroup small(String name, int replicas) {
    String yaml =
        """
        apiVersion: sharedipc.dev/v1alpha1
        kind: SharedIpcGroup
        metadata:
          name: %s
        spec:
          replicas: %d
          placement: SamePod
          sharedMemory: {size: 64Mi, mountPath: /dev/shm, accountTo: writer}
          members:
            - name: writer
              template:
                spec:
                  containers:
                    - name: writer
                      image: busybox:1.36
                      command: [sh, -c, "echo writing; sleep infinity"]
                      resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {memory: 32Mi}}
            - name: reader
              template:
                spec:
                  containers:
                    - name: reader
                      image: busybox:1.36
                      command: [sh, -c, "echo reading; sleep infinity"]
                      resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {memory: 32Mi}}
        """
            .formatted(name, replicas);
    return Serialization.unmarshal(yaml, SharedIpcGroup.class);
  }

  SharedIpcGroup get(String name) {
    return api().inNamespace(ns).withName(name).get();
  }

  SharedIpcGroup scale(String name, int replicas) {
    return api()
        .inNamespace(ns)
        .withName(name)
        .edit(
            g -> {
              g.getSpec().setReplicas(replicas);
              return g;
            });
  }

  /** The group's pods, terminating ones included, by name. */
  Map<String, Pod> pods(String group) {
    return client.pods().inNamespace(ns).withLabel(Labels.GROUP, group).list().getItems().stream()
        .collect(
            Collectors.toMap(
                p -> p.getMetadata().getName(), p -> p, (a, b) -> a, java.util.TreeMap::new));
  }

  /** Every pod of the namespace, whoever made it. */
  Set<String> allPodNames() {
    return client.pods().inNamespace(ns).list().getItems().stream()
        .map(p -> p.getMetadata().getName())
        .collect(Collectors.toCollection(TreeSet::new));
  }

  static Set<String> expectedNames(String group, int replicas) {
    return IntStream.range(0, replicas)
        .mapToObj(i -> group + "-" + i)
        .collect(Collectors.toCollection(TreeSet::new));
  }

  void awaitReady(String name, int replicas) {
    await(name + " Ready with " + replicas + " instances")
        .atMost(CONVERGE)
        .pollInterval(POLL)
        .untilAsserted(() -> assertReady(name, replicas));
  }

  /**
   * The group reports every instance ready for its current generation, and the namespace holds
   * exactly its pods {@code <group>-0..n-1}, each Running and Ready on a KWOK node, labelled and
   * controlled by the group.
   */
  void assertReady(String name, int replicas) {
    SharedIpcGroup group = get(name);
    assertThat(group).as("group %s/%s", ns, name).isNotNull();
    assertThat(group.getStatus()).as("status of %s", name).isNotNull();
    long generation = group.getMetadata().getGeneration();
    assertThat(group.getStatus().getObservedGeneration())
        .as("status.observedGeneration")
        .isEqualTo(generation);
    assertThat(group.getStatus().getPhase()).as("status.phase").isEqualTo("Running");
    assertThat(group.getStatus().getReadyInstances())
        .as("status.readyInstances")
        .isEqualTo(replicas);
    Condition ready = condition(group, "Ready");
    assertThat(ready).as("condition Ready").isNotNull();
    assertThat(ready.getStatus()).as("condition Ready: %s", ready.getMessage()).isEqualTo("True");
    assertThat(ready.getObservedGeneration())
        .as("condition Ready's observedGeneration")
        .isEqualTo(generation);

    assertThat(allPodNames()).as("pods in %s", ns).isEqualTo(expectedNames(name, replicas));
    for (Pod pod : pods(name).values()) {
      String podName = pod.getMetadata().getName();
      assertThat(pod.getMetadata().getDeletionTimestamp())
          .as("%s is not terminating", podName)
          .isNull();
      assertThat(pod.getSpec().getNodeName()).as("node of %s", podName).startsWith("kwok-node-");
      assertThat(pod.getStatus().getPhase()).as("phase of %s", podName).isEqualTo("Running");
      assertThat(isReady(pod)).as("%s Ready", podName).isTrue();
      assertThat(pod.getMetadata().getLabels())
          .containsEntry(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE)
          .containsEntry(Labels.GROUP, name)
          .containsEntry(Labels.INSTANCE, podName.substring(name.length() + 1));
      List<OwnerReference> owners = pod.getMetadata().getOwnerReferences();
      assertThat(owners).as("ownerReferences of %s", podName).hasSize(1);
      assertThat(owners.get(0).getUid()).isEqualTo(group.getMetadata().getUid());
      assertThat(owners.get(0).getController()).isTrue();
    }
  }

  static Condition condition(SharedIpcGroup group, String type) {
    return group.getStatus() == null
        ? null
        : group.getStatus().getConditions().stream()
            .filter(c -> type.equals(c.getType()))
            .findFirst()
            .orElse(null);
  }

  static boolean isReady(Pod pod) {
    if (pod.getStatus() == null || pod.getMetadata().getDeletionTimestamp() != null) {
      return false;
    }
    return pod.getStatus().getConditions().stream()
        .anyMatch((PodCondition c) -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  static Map<String, String> uids(Map<String, Pod> pods) {
    return pods.entrySet().stream()
        .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().getMetadata().getUid()));
  }

  /**
   * Watches a group's pods and keeps, after every change, the fewest instances that were whole and
   * Ready at that moment: every one of {@code members} member pods present, not terminating, Ready.
   * Start it before the change under test; read {@link #fewest()} after.
   */
  static final class WholeInstances
      implements io.fabric8.kubernetes.client.Watcher<Pod>, AutoCloseable {
    private final Map<String, Pod> pods = new java.util.HashMap<>();
    private final int members;
    private final java.util.concurrent.atomic.AtomicInteger fewest =
        new java.util.concurrent.atomic.AtomicInteger(Integer.MAX_VALUE);
    private final List<String> worst = new java.util.ArrayList<>();
    private final io.fabric8.kubernetes.client.Watch watch;

    WholeInstances(KubernetesClient client, String ns, String group, int members) {
      this.members = members;
      io.fabric8.kubernetes.api.model.PodList current =
          client.pods().inNamespace(ns).withLabel(Labels.GROUP, group).list();
      current.getItems().forEach(p -> pods.put(p.getMetadata().getName(), p));
      record();
      this.watch =
          client
              .pods()
              .inNamespace(ns)
              .withLabel(Labels.GROUP, group)
              .watch(
                  new io.fabric8.kubernetes.api.model.ListOptionsBuilder()
                      .withResourceVersion(current.getMetadata().getResourceVersion())
                      .build(),
                  this);
    }

    @Override
    public synchronized void eventReceived(Action action, Pod pod) {
      if (action == Action.DELETED) {
        pods.remove(pod.getMetadata().getName());
      } else {
        pods.put(pod.getMetadata().getName(), pod);
      }
      record();
    }

    private void record() {
      Map<String, Long> readyByInstance =
          pods.values().stream()
              .filter(Groups::isReady)
              .collect(
                  Collectors.groupingBy(
                      p -> p.getMetadata().getLabels().get(Labels.INSTANCE),
                      Collectors.counting()));
      int whole = (int) readyByInstance.values().stream().filter(n -> n >= members).count();
      if (whole < fewest.get()) {
        fewest.set(whole);
        worst.clear();
        pods.values().stream()
            .map(p -> p.getMetadata().getName() + (isReady(p) ? " ready" : " not ready"))
            .sorted()
            .forEach(worst::add);
      }
    }

    /** The fewest whole, Ready instances seen at any moment since the watch started. */
    synchronized int fewest() {
      return fewest.get();
    }

    /** The pods at the worst moment, to explain a failure. */
    synchronized List<String> worstMoment() {
      return List.copyOf(worst);
    }

    @Override
    public void onClose(io.fabric8.kubernetes.client.WatcherException cause) {
      // Closed by the scenario; an early close shows as a failed await.
    }

    @Override
    public void close() {
      watch.close();
    }
  }
}
