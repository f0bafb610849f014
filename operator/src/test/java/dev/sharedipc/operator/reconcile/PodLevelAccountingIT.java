package dev.sharedipc.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.api.Labels;
import dev.sharedipc.api.testing.RealApiServer;
import dev.sharedipc.api.v1alpha1.MemberSpec;
import dev.sharedipc.api.v1alpha1.Placement;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.operator.DumpOnFailure;
import dev.sharedipc.operator.Fixtures;
import dev.sharedipc.operator.GroupsInNamespace;
import dev.sharedipc.operator.RunningOperator;
import dev.sharedipc.operator.render.DesiredState;
import dev.sharedipc.operator.render.GroupRenderer;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Pod-level resources ({@code spec.resources}, beta and on by default in Kubernetes 1.34, the
 * version kube-api-test runs here): the pods the operator renders for a group that sets them are
 * admitted by the real API server, whose validation requires every container limit to be at most
 * the pod-level limit and the pod-level request to cover the containers' requests.
 */
class PodLevelAccountingIT {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static RealApiServer api;
  private static KubernetesClient client;
  private String ns;
  private GroupsInNamespace groups;

  @RegisterExtension final DumpOnFailure dump = new DumpOnFailure(() -> client, () -> ns);

  @BeforeAll
  static void start() {
    api = RealApiServer.shared();
    client = api.client();
    RunningOperator.shared();
  }

  @BeforeEach
  void namespace() {
    ns = api.newNamespace("podlevel");
    groups = new GroupsInNamespace(client, ns);
  }

  /** A member whose template sets a pod-level memory request and/or limit. */
  private static MemberSpec podLevel(MemberSpec member, String request, String limit) {
    ResourceRequirementsBuilder b = new ResourceRequirementsBuilder();
    if (request != null) {
      b.addToRequests("memory", new Quantity(request));
    }
    if (limit != null) {
      b.addToLimits("memory", new Quantity(limit));
    }
    member.getTemplate().getSpec().setResources(b.build());
    return member;
  }

  private static SharedIpcGroup group(String name, String size, MemberSpec... members) {
    SharedIpcGroup group = Fixtures.group(name, 1, size, members);
    group.getMetadata().setNamespace(null);
    group.getMetadata().setUid(null);
    group.getMetadata().setGeneration(null);
    group.getSpec().getSharedMemory().setAccountTo(members[0].getName());
    return group;
  }

  @Test
  void aGroupWithAPodLevelLimitAndAccountToIsAdmittedWithThePodLevelLimitRaised() {
    // issue 9: a pod-level limit of 300Mi, size 512Mi, accountTo; a second member with its own
    // limit
    groups.create(
        group(
            "capped",
            "512Mi",
            podLevel(Fixtures.member("writer", null, "256Mi"), null, "300Mi"),
            Fixtures.member("reader", null, "64Mi")));
    await()
        .atMost(WAIT)
        .until(
            () ->
                client
                        .pods()
                        .inNamespace(ns)
                        .withLabel(Labels.GROUP, "capped")
                        .list()
                        .getItems()
                        .size()
                    == 1);
    Pod pod = client.pods().inNamespace(ns).withName("capped-0").get();
    // members' budgets summed (300Mi + 64Mi), then raised by size
    assertThat(pod.getSpec().getResources().getLimits().get("memory"))
        .isEqualTo(new Quantity("876Mi"));
    assertThat(pod.getSpec().getResources().getRequests().get("memory"))
        .isEqualTo(new Quantity("832Mi"));
    assertThat(pod.getSpec().getContainers().get(0).getResources().getLimits().get("memory"))
        .isEqualTo(new Quantity("768Mi"));

    SharedIpcGroup accounted =
        groups.awaitCondition("capped", "MemoryAccounted", "True", "AccountedToMember");
    assertThat(GroupsInNamespace.condition(accounted, "MemoryAccounted").getMessage())
        .contains("pod-level memory limit and request (spec.resources)");
    assertThat(GroupsInNamespace.condition(accounted, "Placed").getReason())
        .isNotEqualTo("PodRejected");
  }

  @Test
  void everyRenderedVariantIsAdmittedByTheApiServer() {
    List<SharedIpcGroup> variants =
        List.of(
            group("limit-only", "512Mi", podLevel(Fixtures.member("w", null, null), null, "300Mi")),
            group(
                "request-and-limit",
                "512Mi",
                podLevel(Fixtures.member("w", "64Mi", "128Mi"), "100Mi", "300Mi")),
            group(
                "two-pod-levels",
                "1Gi",
                podLevel(Fixtures.member("w", "64Mi", null), "100Mi", "300Mi"),
                podLevel(Fixtures.member("r", null, "32Mi"), null, "200Mi")),
            sameNode(
                group(
                    "samenode",
                    "512Mi",
                    podLevel(Fixtures.member("w", "128Mi", "256Mi"), null, "300Mi"),
                    podLevel(Fixtures.member("r", null, null), null, "100Mi"))));
    for (SharedIpcGroup variant : variants) {
      variant.getMetadata().setNamespace(ns);
      DesiredState desired = new GroupRenderer().render(variant);
      assertThat(desired.memory().holds())
          .as("%s: %s", variant.getMetadata().getName(), desired.memory())
          .isTrue();
      for (Pod pod : desired.pods()) {
        // created for real, not as a dry run: the whole admission chain and validation judge it
        Pod created = client.pods().inNamespace(ns).resource(pod).create();
        assertThat(created.getSpec().getResources()).as(pod.getMetadata().getName()).isNotNull();
      }
    }
  }

  private static SharedIpcGroup sameNode(SharedIpcGroup group) {
    group.getSpec().setPlacement(Placement.SameNode);
    return group;
  }
}
