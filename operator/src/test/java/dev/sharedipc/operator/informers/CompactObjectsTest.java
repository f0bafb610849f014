package dev.sharedipc.operator.informers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.Test;

class CompactObjectsTest {
  private static final KubernetesSerialization JSON = new KubernetesSerialization();

  private static final String POD =
      """
      {"apiVersion":"v1","kind":"Pod",
       "metadata":{"name":"%s","namespace":"ns","uid":"%s",
         "labels":{"app.kubernetes.io/managed-by":"sharedipc","sharedipc.dev/group":"g"}},
       "spec":{"nodeName":"n1","containers":[{"name":"writer","image":"busybox:1.36",
         "resources":{"requests":{"memory":"16Mi"}}}],
         "tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute"}]},
       "status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}
      """;

  private static Pod pod(String name) {
    return JSON.unmarshal(POD.formatted(name, "uid-" + name), Pod.class);
  }

  @Test
  void podsCachedApartShareTheirRepeatedStringsAndEmptyMaps() {
    Pod a = CompactObjects.compact(pod("a"));
    Pod b = CompactObjects.compact(pod("b"));

    assertThat(b.getMetadata().getLabels().get("sharedipc.dev/group"))
        .isSameAs(a.getMetadata().getLabels().get("sharedipc.dev/group"));
    assertThat(b.getSpec().getContainers().get(0).getImage())
        .isSameAs(a.getSpec().getContainers().get(0).getImage());
    assertThat(b.getSpec().getTolerations().get(0).getKey())
        .isSameAs(a.getSpec().getTolerations().get(0).getKey());
    assertThat(b.getStatus().getConditions().get(0).getType())
        .isSameAs(a.getStatus().getConditions().get(0).getType());
    assertThat(b.getSpec().getContainers().get(0).getResources().getRequests().get("memory"))
        .isEqualTo(a.getSpec().getContainers().get(0).getResources().getRequests().get("memory"));
    assertThat(a.getSpec().getAdditionalProperties()).isEmpty();
    assertThat(b.getSpec().getContainers().get(0).getAdditionalProperties())
        .isSameAs(a.getSpec().getAdditionalProperties());
  }

  @Test
  void aCompactedPodSaysWhatItSaidAndItsCopiesCanChange() {
    Pod compacted = CompactObjects.compact(pod("a"));

    assertThat(compacted).isEqualTo(pod("a"));
    assertThat(JSON.asJson(compacted)).isEqualTo(JSON.asJson(pod("a")));
    Pod copy = new PodBuilder(compacted).build();
    copy.getSpec().setAdditionalProperty("extra", "value");
    copy.getMetadata().getLabels().put("more", "labels");
    assertThat(copy.getSpec().getAdditionalProperties()).containsEntry("extra", "value");
    assertThat(compacted.getMetadata().getLabels()).doesNotContainKey("more");
  }

  @Test
  void groupsShareTheirConditionStringsAndSayWhatTheySaid() {
    String group =
        """
        {"apiVersion":"sharedipc.dev/v1alpha1","kind":"SharedIpcGroup",
         "metadata":{"name":"%s","namespace":"ns"},
         "spec":{"replicas":1,"sharedMemory":{"size":"64Mi"},"members":[{"name":"writer",
           "template":{"spec":{"containers":[{"name":"writer","image":"busybox:1.36"}]}}}]},
         "status":{"phase":"Running","conditions":[{"type":"WithinQuota","status":"True",
           "reason":"WithinQuota","message":"every instance is within spec.segments quotas"}]}}
        """;
    SharedIpcGroup a =
        CompactObjects.compact(JSON.unmarshal(group.formatted("a"), SharedIpcGroup.class));
    SharedIpcGroup b =
        CompactObjects.compact(JSON.unmarshal(group.formatted("b"), SharedIpcGroup.class));

    assertThat(b.getStatus().getConditions().get(0).getMessage())
        .isSameAs(a.getStatus().getConditions().get(0).getMessage());
    assertThat(
            b.getSpec()
                .getMembers()
                .get(0)
                .getTemplate()
                .getSpec()
                .getContainers()
                .get(0)
                .getImage())
        .isSameAs(
            a.getSpec()
                .getMembers()
                .get(0)
                .getTemplate()
                .getSpec()
                .getContainers()
                .get(0)
                .getImage());
    assertThat(a.getStatus())
        .isEqualTo(JSON.unmarshal(group.formatted("a"), SharedIpcGroup.class).getStatus());
    assertThat(JSON.asJson(a))
        .isEqualTo(JSON.asJson(JSON.unmarshal(group.formatted("a"), SharedIpcGroup.class)));
  }
}
