package dev.sharedipc.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.e2e.harness.E2EEnvironment;
import dev.sharedipc.e2e.harness.E2EExtension;
import dev.sharedipc.e2e.harness.TestNamespace;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The API server goes away and comes back (etcd keeps the state): the operator keeps running, its
 * watches resume, and it acts on what changes afterwards, in groups and in pods.
 */
@ExtendWith(E2EExtension.class)
@Order(3)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ApiServerRestartE2E {
  /** Informers reconnect with backoff after the API server returns: allow for a few rounds. */
  private static final Duration RECOVER = Duration.ofSeconds(90);

  @Test
  @Order(1)
  void operatorRecoversWhenTheApiServerRestarts(E2EEnvironment env, TestNamespace ns) {
    Groups groups = new Groups(env.admin(), ns.name());
    groups.createSmall("survivor", 2);
    groups.awaitReady("survivor", 2);
    Map<String, String> before = Groups.uids(groups.pods("survivor"));

    env.cluster().restart("kube-apiserver");

    assertThat(env.operator().isAlive())
        .as("the operator survives the API server's absence")
        .isTrue();
    groups.scale("survivor", 3);
    env.admin().pods().inNamespace(ns.name()).withName("survivor-0").withGracePeriod(0).delete();
    await("survivor Ready with 3 instances after the API server restart")
        .atMost(RECOVER)
        .pollInterval(Groups.POLL)
        .untilAsserted(
            () -> {
              groups.assertReady("survivor", 3);
              assertThat(Groups.uids(groups.pods("survivor")).get("survivor-0"))
                  .as("the deleted pod is re-created")
                  .isNotEqualTo(before.get("survivor-0"));
            });
    assertThat(Groups.uids(groups.pods("survivor")))
        .containsEntry("survivor-1", before.get("survivor-1"));
    await("the operator's /readyz")
        .atMost(RECOVER)
        .pollInterval(Groups.POLL)
        .until(() -> env.operator().ready());
  }

  /**
   * Runs last (this class is ordered last): over the whole run, deploy/'s RBAC never fell short.
   */
  @Test
  @Order(2)
  void noRequestOfTheOperatorWasRefusedDuringTheRun(E2EEnvironment env) {
    assertThat(Groups.rbacDenials(env))
        .as("RBAC refusals in the operator's logs, outside the API server's restarts")
        .isEmpty();
  }
}
