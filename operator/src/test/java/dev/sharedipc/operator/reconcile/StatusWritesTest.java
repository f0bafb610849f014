package dev.sharedipc.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.api.v1alpha1.SharedIpcGroupStatus;
import java.util.Set;
import org.junit.jupiter.api.Test;

class StatusWritesTest {
  static SharedIpcGroupStatus status(String phase, int ready) {
    SharedIpcGroupStatus s = new SharedIpcGroupStatus();
    s.setPhase(phase);
    s.setReadyInstances(ready);
    return s;
  }

  @Test
  void aStatusEqualToAStalePrimaryIsWrittenWhenTheLastWriteSaidOtherwise() {
    StatusWrites writes = new StatusWrites();
    SharedIpcGroupStatus running = status("Running", 1);
    SharedIpcGroupStatus recreating = status("Pending", 0);
    writes.writing("g", running);
    // a member is re-created: the status says so
    assertThat(writes.needed("g", running, recreating)).isTrue();
    writes.writing("g", recreating);
    // the next reconcile is given the group from before that write, and finds it whole again
    assertThat(writes.needed("g", status("Running", 1), status("Running", 1)))
        .as("Running is computed, the primary is stale at Running, Pending stands")
        .isTrue();
    writes.writing("g", status("Running", 1));
    assertThat(writes.needed("g", status("Running", 1), status("Running", 1))).isFalse();
  }

  @Test
  void aStatusEqualToACurrentPrimaryIsNotWritten() {
    StatusWrites writes = new StatusWrites();
    assertThat(writes.needed("g", null, status("Pending", 0))).isTrue();
    writes.writing("g", status("Pending", 0));
    assertThat(writes.needed("g", status("Pending", 0), status("Pending", 0))).isFalse();
    // after a restart nothing is remembered: the primary alone decides
    assertThat(new StatusWrites().needed("g", status("Pending", 0), status("Pending", 0)))
        .isFalse();
  }

  @Test
  void aDeletedGroupIsForgotten() {
    StatusWrites writes = new StatusWrites();
    writes.writing("gone", status("Pending", 0));
    writes.writing("live", status("Pending", 0));
    writes.forgetAllBut(Set.of("live"));
    assertThat(writes.needed("gone", status("Running", 1), status("Running", 1))).isFalse();
    assertThat(writes.needed("live", status("Running", 1), status("Running", 1))).isTrue();
  }
}
