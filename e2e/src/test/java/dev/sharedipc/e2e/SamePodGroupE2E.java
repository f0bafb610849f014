package dev.sharedipc.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.api.Labels;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.e2e.harness.E2EEnvironment;
import dev.sharedipc.e2e.harness.E2EExtension;
import dev.sharedipc.e2e.harness.TestNamespace;
import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodList;
import io.fabric8.kubernetes.api.model.authentication.SelfSubjectReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A SamePod group's life on a whole cluster (real scheduler, garbage collector, KWOK nodes),
 * reconciled by the operator running from its jar with only its ServiceAccount's RBAC from deploy/:
 * ready, scaled, updated, deleted.
 */
@ExtendWith(E2EExtension.class)
@Order(1) // classes run in @Order (junit-platform.properties): restarts last
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SamePodGroupE2E {
  private static final String OPERATOR_USER =
      "system:serviceaccount:"
          + E2EEnvironment.OPERATOR_NAMESPACE
          + ":"
          + E2EEnvironment.OPERATOR_SERVICE_ACCOUNT;

  /** The scenarios below prove deploy/'s RBAC is enough; this proves it is all the operator has. */
  @Test
  @Order(1)
  void operatorRunsAsItsServiceAccountWithOnlyTheRbacOfDeploy(
      E2EEnvironment env, TestNamespace ns) {
    try (KubernetesClient operator = env.asOperator()) {
      SelfSubjectReview whoami =
          operator.authentication().v1().selfSubjectReviews().create(new SelfSubjectReview());
      assertThat(whoami.getStatus().getUserInfo().getUsername()).isEqualTo(OPERATOR_USER);
      assertThat(whoami.getStatus().getUserInfo().getGroups()).doesNotContain("system:masters");

      assertThat(allowed(operator, ns.name(), "", "pods", "create")).isTrue();
      assertThat(allowed(operator, ns.name(), "sharedipc.dev", "sharedipcgroups/status", "patch"))
          .isTrue();
      // Least privilege: what its code never does, it may not do.
      assertThat(allowed(operator, ns.name(), "", "pods", "update")).as("update pods").isFalse();
      assertThat(allowed(operator, ns.name(), "", "secrets", "get")).as("get secrets").isFalse();
      assertThat(allowed(operator, ns.name(), "sharedipc.dev", "sharedipcgroups", "delete"))
          .as("delete groups")
          .isFalse();
      assertThat(allowed(operator, ns.name(), "apps", "deployments", "create"))
          .as("create deployments")
          .isFalse();
    }
  }

  @Test
  @Order(2)
  void marketDataSampleGoesReadyWithItsPodsRunningOnKwokNodes(
      E2EEnvironment env, TestNamespace ns) {
    Groups groups = new Groups(env.admin(), ns.name());
    SharedIpcGroup group =
        groups.createFromSample(env.repo().resolve("samples/market-data-samepod.yaml"));
    String name = group.getMetadata().getName();

    groups.awaitReady(name, 2);

    for (Pod pod : groups.pods(name).values()) {
      assertThat(pod.getSpec().getContainers())
          .extracting(c -> c.getName())
          .as("every member is a container of the one pod")
          .containsExactlyInAnyOrder("feed", "strategy-a", "strategy-b");
      assertThat(pod.getSpec().getSchedulerName()).isEqualTo("default-scheduler");
    }
    assertThat(Groups.condition(groups.get(name), "Placed").getStatus()).isEqualTo("True");
    await("PodCreated Events for both instances")
        .atMost(Groups.CONVERGE)
        .pollInterval(Groups.POLL)
        .untilAsserted(
            () ->
                assertThat(events(env, ns, name))
                    .extracting(Event::getReason)
                    .filteredOn("PodCreated"::equals)
                    .hasSize(2));
    assertThat(Groups.rbacDenials(env)).as("the operator's log: no request was refused").isEmpty();
  }

  @Test
  @Order(3)
  void scalingUpAndDownAddsAndRemovesWholeInstances(E2EEnvironment env, TestNamespace ns) {
    Groups groups = new Groups(env.admin(), ns.name());
    groups.createSmall("ring", 2);
    groups.awaitReady("ring", 2);
    Map<String, String> before = Groups.uids(groups.pods("ring"));

    groups.scale("ring", 5);
    groups.awaitReady("ring", 5);
    assertThat(Groups.uids(groups.pods("ring")))
        .as("scaling up keeps the existing instances' pods")
        .containsAllEntriesOf(before);

    groups.scale("ring", 1);
    groups.awaitReady("ring", 1);
    assertThat(Groups.uids(groups.pods("ring"))).containsEntry("ring-0", before.get("ring-0"));
  }

  @Test
  @Order(4)
  void specUpdateReplacesThePodsOneInstanceAtATime(E2EEnvironment env, TestNamespace ns) {
    Groups groups = new Groups(env.admin(), ns.name());
    int replicas = 3;
    groups.createSmall("rolling", replicas);
    groups.awaitReady("rolling", replicas);
    Map<String, String> oldUids = Groups.uids(groups.pods("rolling"));
    String oldHash = hash(groups.pods("rolling").get("rolling-0"));

    // Watch every pod change from here on, to see the fewest ready instances at any moment.
    PodList current =
        env.admin().pods().inNamespace(ns.name()).withLabel(Labels.GROUP, "rolling").list();
    ReadyInstances ready = new ReadyInstances(current.getItems());
    Watch watch =
        env.admin()
            .pods()
            .inNamespace(ns.name())
            .withLabel(Labels.GROUP, "rolling")
            .watch(
                new ListOptionsBuilder()
                    .withResourceVersion(current.getMetadata().getResourceVersion())
                    .build(),
                ready);
    try {
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

      await("every pod replaced with the new spec")
          .atMost(Groups.CONVERGE)
          .pollInterval(Groups.POLL)
          .untilAsserted(
              () -> {
                groups.assertReady("rolling", replicas);
                for (Pod pod : groups.pods("rolling").values()) {
                  assertThat(pod.getMetadata().getUid())
                      .as("%s replaced", pod.getMetadata().getName())
                      .isNotEqualTo(oldUids.get(pod.getMetadata().getName()));
                  assertThat(hash(pod)).isNotEqualTo(oldHash);
                  assertThat(pod.getSpec().getContainers().get(1).getImage())
                      .isEqualTo("busybox:1.37");
                }
              });
    } finally {
      watch.close();
    }
    assertThat(ready.fewest.get())
        .as("ready instances never fell below replicas - 1 during the rollout")
        .isGreaterThanOrEqualTo(replicas - 1);
  }

  @Test
  @Order(5)
  void deletingTheGroupRemovesItsPodsThroughTheGarbageCollector(
      E2EEnvironment env, TestNamespace ns) {
    Groups groups = new Groups(env.admin(), ns.name());
    groups.createSmall("doomed", 3);
    groups.awaitReady("doomed", 3);

    groups
        .api()
        .inNamespace(ns.name())
        .withName("doomed")
        .withPropagationPolicy(DeletionPropagation.BACKGROUND)
        .delete();

    await("the group's pods deleted by the garbage collector")
        .atMost(Groups.CONVERGE)
        .pollInterval(Groups.POLL)
        .untilAsserted(
            () -> {
              assertThat(groups.get("doomed")).isNull();
              assertThat(groups.allPodNames()).isEmpty();
            });
  }

  private static boolean allowed(
      KubernetesClient client, String ns, String group, String resource, String verb) {
    String[] parts = resource.split("/", 2);
    SelfSubjectAccessReview review =
        new SelfSubjectAccessReviewBuilder()
            .withNewSpec()
            .withNewResourceAttributes()
            .withNamespace(ns)
            .withGroup(group)
            .withResource(parts[0])
            .withSubresource(parts.length > 1 ? parts[1] : null)
            .withVerb(verb)
            .endResourceAttributes()
            .endSpec()
            .build();
    return client
        .authorization()
        .v1()
        .selfSubjectAccessReview()
        .create(review)
        .getStatus()
        .getAllowed();
  }

  private static List<Event> events(E2EEnvironment env, TestNamespace ns, String involved) {
    return env.admin().v1().events().inNamespace(ns.name()).list().getItems().stream()
        .filter(e -> involved.equals(e.getInvolvedObject().getName()))
        .toList();
  }

  private static String hash(Pod pod) {
    return pod.getMetadata().getAnnotations().get(Labels.TEMPLATE_HASH_ANNOTATION);
  }

  /**
   * Counts instances with a ready, non-terminating pod after every watch event; keeps the fewest.
   */
  private static final class ReadyInstances implements Watcher<Pod> {
    private final Map<String, Pod> pods = new HashMap<>();
    final AtomicInteger fewest = new AtomicInteger(Integer.MAX_VALUE);

    ReadyInstances(List<Pod> initial) {
      initial.forEach(p -> pods.put(p.getMetadata().getName(), p));
      record();
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
      long readyInstances =
          pods.values().stream()
              .filter(Groups::isReady)
              .map(p -> p.getMetadata().getLabels().get(Labels.INSTANCE))
              .distinct()
              .count();
      fewest.accumulateAndGet((int) readyInstances, Math::min);
    }

    @Override
    public void onClose(WatcherException cause) {
      // The scenario closes the watch itself; an early close shows as a failed await above.
    }
  }
}
