package dev.sharedipc.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.e2e.harness.E2EEnvironment;
import dev.sharedipc.e2e.harness.E2EExtension;
import dev.sharedipc.e2e.harness.TestNamespace;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The operator dies or is stopped while it works, and its next incarnation converges: every
 * instance has exactly one pod, none is duplicated, and none that was fine is replaced. The pods
 * are named per instance, so "no duplicate" also means no stray pod of any other name.
 */
@ExtendWith(E2EExtension.class)
@Order(2)
class OperatorRestartE2E {
  @AfterEach
  void operatorRunsAgain(E2EEnvironment env) {
    // Whatever happened above, the next scenario needs a running operator.
    if (!env.operator().isAlive()) {
      env.operator().start();
    }
  }

  @Test
  void operatorKilledWhileCreatingPodsConvergesWithoutDuplicatesOrLosses(
      E2EEnvironment env, TestNamespace ns) {
    Groups groups = new Groups(env.admin(), ns.name());
    int replicas = 20;
    groups.createSmall("burst", replicas);

    // Mid-flight: as soon as the first pods exist, SIGKILL the operator (no shutdown hook runs).
    await("the operator's first pods")
        .atMost(Groups.CONVERGE)
        .pollInterval(Duration.ofMillis(10))
        .until(() -> !groups.pods("burst").isEmpty());
    env.operator().kill();
    Map<String, Pod> atKill = groups.pods("burst");
    assertThat(atKill.size())
        .as("pods when the operator was killed: the kill came mid-flight")
        .isBetween(1, replicas - 1);
    Map<String, String> uidsAtKill = Groups.uids(atKill);

    env.operator().start();

    groups.awaitReady("burst", replicas);
    assertThat(Groups.uids(groups.pods("burst")))
        .as("pods created before the kill are kept, not re-created")
        .containsAllEntriesOf(uidsAtKill);
  }

  @Test
  void changesMadeWhileTheOperatorIsDownAreReconciledWhenItReturns(
      E2EEnvironment env, TestNamespace ns) {
    Groups groups = new Groups(env.admin(), ns.name());
    groups.createSmall("steady", 3);
    groups.awaitReady("steady", 3);
    Map<String, String> before = Groups.uids(groups.pods("steady"));

    env.operator().stop();
    // While it is away: the group grows, and one of its pods is lost.
    groups.scale("steady", 5);
    env.admin().pods().inNamespace(ns.name()).withName("steady-1").withGracePeriod(0).delete();
    await("steady-1 gone")
        .atMost(Groups.CONVERGE)
        .pollInterval(Groups.POLL)
        .until(() -> !groups.pods("steady").containsKey("steady-1"));

    env.operator().start();

    groups.awaitReady("steady", 5);
    Map<String, String> after = Groups.uids(groups.pods("steady"));
    assertThat(after)
        .containsEntry("steady-0", before.get("steady-0"))
        .containsEntry("steady-2", before.get("steady-2"));
    assertThat(after.get("steady-1"))
        .as("the lost pod is re-created")
        .isNotEqualTo(before.get("steady-1"));
  }
}
