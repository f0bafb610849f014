package dev.sharedipc.operator.policy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sharedipc.api.v1alpha1.AdmittedSpec;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcGroupSpec;
import dev.sharedipc.operator.assessment.Assessment;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.Optional;

/**
 * Which spec a group's pods follow, so that a policy violation stops changes but not healing.
 *
 * <p>While the group obeys every SharedIpcPolicy, its pods follow its own spec, and that spec is
 * recorded as admitted ({@code status.admitted}: generation and a copy). While it breaks one, its
 * pods follow the last admitted spec instead, with replicas lowered to the group's when the user
 * scaled down since: lost pods of the running instances are re-created exactly as they ran (the
 * same template hash, so nothing is rolled out), a SameNode instance may still move whole, and
 * instances beyond the admitted replicas (scale-up) and spec changes wait until the group complies.
 * A group that never complied has nothing admitted and gets no pods. A status written before {@code
 * status.admitted} existed counts as a record of the current spec when it shows this very
 * generation complying. A pure function.
 *
 * @param governed the group the sync works on: the group itself, or a copy carrying the admitted
 *     spec (same metadata, so ownership, names and Events are unchanged); null when nothing may run
 * @param record what to keep in {@code status.admitted}
 */
public record Admission(SharedIpcGroup governed, AdmittedSpec record) {
  private static final KubernetesSerialization JSON = new KubernetesSerialization();

  public static Admission of(SharedIpcGroup group, Assessment compliance) {
    if (!Boolean.FALSE.equals(compliance.holds())) {
      return new Admission(
          group, new AdmittedSpec(group.getMetadata().getGeneration(), tree(group.getSpec())));
    }
    AdmittedSpec before = group.getStatus() == null ? null : group.getStatus().getAdmitted();
    if (before == null && compliedAtThisGeneration(group)) {
      // Status written before status.admitted existed (an operator upgrade) that shows this very
      // generation complying: its pods run this spec, so it is the admitted one.
      before = new AdmittedSpec(group.getMetadata().getGeneration(), tree(group.getSpec()));
    }
    if (before == null || before.getSpec() == null || before.getSpec().isNull()) {
      return new Admission(null, null);
    }
    SharedIpcGroupSpec spec = JSON.convertValue(before.getSpec(), SharedIpcGroupSpec.class);
    int replicas = Optional.ofNullable(group.getSpec().getReplicas()).orElse(1);
    spec.setReplicas(Math.min(Optional.ofNullable(spec.getReplicas()).orElse(1), replicas));
    SharedIpcGroup governed = new SharedIpcGroup();
    governed.setMetadata(group.getMetadata());
    governed.setSpec(spec);
    governed.setStatus(group.getStatus());
    return new Admission(governed, new AdmittedSpec(before.getGeneration(), tree(spec)));
  }

  private static boolean compliedAtThisGeneration(SharedIpcGroup group) {
    Long generation = group.getMetadata().getGeneration();
    return group.getStatus() != null
        && group.getStatus().getConditions() != null
        && generation != null
        && generation.equals(group.getStatus().getObservedGeneration())
        && group.getStatus().getConditions().stream()
            .anyMatch(
                c ->
                    "PolicyCompliant".equals(c.getType())
                        && "True".equals(c.getStatus())
                        && generation.equals(c.getObservedGeneration()));
  }

  /**
   * The spec as the API server will return it: through JSON text, so that numbers compare equal to
   * the stored copy (a converted long is a LongNode, a parsed 30 an IntNode) and an unchanged
   * status is not written again.
   */
  private static JsonNode tree(SharedIpcGroupSpec spec) {
    return JSON.unmarshal(JSON.asJson(spec), JsonNode.class);
  }
}
