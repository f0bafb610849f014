package dev.sharedipc.operator.policy;

import static dev.sharedipc.operator.Fixtures.group;
import static dev.sharedipc.operator.Fixtures.member;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcGroupStatus;
import dev.sharedipc.operator.assessment.Assessment;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which spec the pods follow: the group's while it complies, the admitted one while it does not.
 */
class AdmissionTest {
  private static final Assessment COMPLIANT = new Assessment(true, "Compliant", "ok");
  private static final Assessment BROKEN =
      new Assessment(false, "PolicyViolation", "sharedMemory.size is above the ceiling");

  @Test
  void aCompliantGroupFollowsItsOwnSpecAndRecordsIt() {
    SharedIpcGroup g = group("g", 2, "64Mi", member("w", null, null));
    g.getMetadata().setGeneration(3L);
    Admission admission = Admission.of(g, COMPLIANT);
    assertThat(admission.governed()).isSameAs(g);
    assertThat(admission.record().getGeneration()).isEqualTo(3L);
    assertThat(admission.record().getSpec().get("sharedMemory").get("size").asText())
        .isEqualTo("64Mi");
  }

  @Test
  void aViolatingGroupFollowsTheAdmittedSpecWithoutScalingUp() {
    SharedIpcGroup g = group("g", 2, "64Mi", member("w", null, null));
    g.getMetadata().setGeneration(3L);
    g.setStatus(new SharedIpcGroupStatus());
    g.getStatus().setAdmitted(Admission.of(g, COMPLIANT).record());
    // The user now asks for more memory and more instances, which the policy refuses.
    g.getMetadata().setGeneration(4L);
    g.getSpec().getSharedMemory().setSize(new Quantity("1Gi"));
    g.getSpec().setReplicas(5);

    Admission admission = Admission.of(g, BROKEN);
    assertThat(admission.governed().getSpec().getSharedMemory().getSize())
        .isEqualTo(new Quantity("64Mi"));
    assertThat(admission.governed().getSpec().getReplicas()).isEqualTo(2);
    assertThat(admission.governed().getMetadata()).isSameAs(g.getMetadata());
    assertThat(admission.record())
        .isEqualTo(g.getStatus().getAdmitted())
        .as("the record stays as it was");

    // Scaling down is not refused, and is remembered: scaling back up is a new instance.
    g.getSpec().setReplicas(1);
    Admission down = Admission.of(g, BROKEN);
    assertThat(down.governed().getSpec().getReplicas()).isEqualTo(1);
    g.getStatus().setAdmitted(down.record());
    g.getSpec().setReplicas(2);
    assertThat(Admission.of(g, BROKEN).governed().getSpec().getReplicas()).isEqualTo(1);
  }

  @Test
  void aGroupThatNeverCompliedRunsNothing() {
    SharedIpcGroup g = group("g", 2, "64Mi", member("w", null, null));
    Admission admission = Admission.of(g, BROKEN);
    assertThat(admission.governed()).isNull();
    assertThat(admission.record()).isNull();
  }

  @Test
  void anUnknownVerdictDoesNotStopChanges() {
    SharedIpcGroup g = group("g", 2, "64Mi", member("w", null, null));
    assertThat(Admission.of(g, Assessment.unknown("NotJudged", "later")).governed()).isSameAs(g);
  }

  @Test
  void theRecordEqualsItsCopyReadBackFromTheApiServer() {
    // A long field (terminationGracePeriodSeconds) must compare equal after a JSON round trip, or
    // every reconcile would see a changed status and write it again.
    SharedIpcGroup g = group("g", 2, "64Mi", member("w", null, null));
    g.getSpec().getMembers().get(0).getTemplate().getSpec().setTerminationGracePeriodSeconds(30L);
    SharedIpcGroupStatus status = new SharedIpcGroupStatus();
    status.setAdmitted(Admission.of(g, COMPLIANT).record());
    KubernetesSerialization json = new KubernetesSerialization();
    assertThat(json.unmarshal(json.asJson(status), SharedIpcGroupStatus.class)).isEqualTo(status);
  }

  @Test
  void aStatusFromBeforeAdmissionRecordsThatShowsThisGenerationComplyingAdmitsIt() {
    // An operator upgrade: the old status has no admitted spec, but says generation 3 complied.
    SharedIpcGroup g = group("g", 2, "64Mi", member("w", null, null));
    g.getMetadata().setGeneration(3L);
    g.setStatus(new SharedIpcGroupStatus());
    g.getStatus().setObservedGeneration(3L);
    g.getStatus()
        .setConditions(
            List.of(
                new ConditionBuilder()
                    .withType("PolicyCompliant")
                    .withStatus("True")
                    .withObservedGeneration(3L)
                    .build()));
    Admission admission = Admission.of(g, BROKEN);
    assertThat(admission.governed().getSpec().getReplicas()).isEqualTo(2);
    assertThat(admission.record().getGeneration()).isEqualTo(3L);
    // Not when the spec changed since: generation 4 was never judged compliant.
    g.getMetadata().setGeneration(4L);
    assertThat(Admission.of(g, BROKEN).governed()).isNull();
  }
}
