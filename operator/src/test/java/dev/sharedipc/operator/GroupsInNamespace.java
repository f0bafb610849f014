package dev.sharedipc.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * What integration tests do with the groups of their own namespace: read, edit, await conditions.
 */
public final class GroupsInNamespace {
  public static final Duration WAIT = Duration.ofSeconds(30);

  private final KubernetesClient client;
  private final String ns;

  public GroupsInNamespace(KubernetesClient client, String ns) {
    this.client = client;
    this.ns = ns;
  }

  public SharedIpcGroup create(SharedIpcGroup group) {
    return client.resources(SharedIpcGroup.class).inNamespace(ns).resource(group).create();
  }

  public SharedIpcGroup get(String name) {
    return client.resources(SharedIpcGroup.class).inNamespace(ns).withName(name).get();
  }

  /** A user's edit: retried on conflict, since the operator writes status concurrently. */
  public void edit(String name, UnaryOperator<SharedIpcGroup> change) {
    await()
        .atMost(WAIT)
        .ignoreExceptionsInstanceOf(KubernetesClientException.class)
        .until(
            () -> {
              client.resources(SharedIpcGroup.class).inNamespace(ns).withName(name).edit(change);
              return true;
            });
  }

  /** Waits until the group's condition has this status and reason, and returns the group then. */
  public SharedIpcGroup awaitCondition(String name, String type, String status, String reason) {
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              SharedIpcGroup g = get(name);
              assertThat(g.getStatus()).isNotNull();
              Condition c = condition(g, type);
              assertThat(c).as("condition %s of %s", type, name).isNotNull();
              assertThat(c.getStatus() + "/" + c.getReason()).isEqualTo(status + "/" + reason);
            });
    return get(name);
  }

  public static Condition condition(SharedIpcGroup group, String type) {
    return group.getStatus().getConditions().stream()
        .filter(c -> type.equals(c.getType()))
        .findFirst()
        .orElse(null);
  }

  public List<String> eventReasons() {
    return client.v1().events().inNamespace(ns).list().getItems().stream()
        .map(Event::getReason)
        .toList();
  }
}
