package dev.sharedipc.operator.informers;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ContainerImageBuilder;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import org.junit.jupiter.api.Test;

class TrimmedStoreTest {
  @Test
  void cachedObjectsKeepEverythingButTheirManagedFields() {
    TrimmedStore<Pod> store = TrimmedStore.withoutManagedFields();
    Pod pod =
        new PodBuilder()
            .withNewMetadata()
            .withName("p")
            .withNamespace("ns")
            .addToLabels("a", "b")
            .addToManagedFields(
                new ManagedFieldsEntryBuilder()
                    .withManager("kubectl")
                    .withOperation("Update")
                    .build())
            .endMetadata()
            .withNewSpec()
            .withNodeName("n1")
            .endSpec()
            .build();

    store.put(store.getKey(pod), pod);

    Pod cached = store.get("ns/p");
    assertThat(cached.getMetadata().getManagedFields()).isNullOrEmpty();
    assertThat(cached.getMetadata().getLabels()).containsEntry("a", "b");
    assertThat(cached.getSpec().getNodeName()).isEqualTo("n1");
    assertThat(store.size()).isEqualTo(1);
    assertThat(store.remove("ns/p")).isSameAs(cached);
    assertThat(store.size()).isZero();
  }

  @Test
  void cachedNodesLoseTheirImageListButNotWhatPlacementReads() {
    TrimmedStore<Node> store = TrimmedStore.nodes();
    Node node =
        new NodeBuilder()
            .withNewMetadata()
            .withName("n1")
            .addToLabels("zone", "a")
            .addToManagedFields(new ManagedFieldsEntryBuilder().withManager("kubelet").build())
            .endMetadata()
            .withNewStatus()
            .addToAllocatable("memory", new Quantity("8Gi"))
            .addToImages(
                new ContainerImageBuilder().addToNames("busybox").withSizeBytes(1_000_000L).build())
            .addNewCondition()
            .withType("Ready")
            .withStatus("True")
            .endCondition()
            .endStatus()
            .build();

    store.put(store.getKey(node), node);

    Node cached = store.get("n1");
    assertThat(cached.getMetadata().getManagedFields()).isNullOrEmpty();
    assertThat(cached.getStatus().getImages()).isNullOrEmpty();
    assertThat(cached.getStatus().getAllocatable()).containsKey("memory");
    assertThat(cached.getStatus().getConditions()).hasSize(1);
    assertThat(cached.getMetadata().getLabels()).containsEntry("zone", "a");
  }

  @Test
  void aSpecOnlyCacheKeepsTheSpecOfAGroupWithoutItsStatus() {
    TrimmedStore<dev.sharedipc.api.v1alpha1.SharedIpcGroup> store = TrimmedStore.specOnly();
    dev.sharedipc.api.v1alpha1.SharedIpcGroup group =
        dev.sharedipc.operator.Fixtures.group(
            "md", 2, "64Mi", dev.sharedipc.operator.Fixtures.member("w", null, null));
    group.setStatus(new dev.sharedipc.api.v1alpha1.SharedIpcGroupStatus());

    store.put(store.getKey(group), group);

    dev.sharedipc.api.v1alpha1.SharedIpcGroup cached = store.get(store.getKey(group));
    assertThat(cached.getStatus()).isNull();
    assertThat(cached.getSpec().getReplicas()).isEqualTo(2);
  }
}
