package dev.sharedipc.operator.render;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sharedipc.api.v1alpha1.MemberSpec;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Turns the pod templates of all members into the one pod template of a SamePod instance.
 *
 * <p>Lists are united: containers and init containers in member order (names must be unique across
 * members), volumes by name (the same name must mean the same volume), tolerations and image pull
 * secrets without duplicates. Maps (labels, annotations, nodeSelector) are united key by key.
 * Pod-level resources ({@code spec.resources}, Kubernetes 1.34+) are summed, see {@link
 * PodLevelResources}. Every other pod-level field may be set by any number of members as long as
 * they agree; two members setting it differently is a {@link MergeConflict} naming both.
 */
public final class PodTemplateMerger {
  /** Pod-level fields merged by the rules above rather than by "all who set it agree". */
  private static final Set<String> UNITED_FIELDS =
      Set.of(
          "containers",
          "initContainers",
          "volumes",
          "tolerations",
          "imagePullSecrets",
          "nodeSelector",
          "resources");

  private final KubernetesSerialization serialization = new KubernetesSerialization();

  public PodTemplateSpec merge(List<MemberSpec> members) {
    ObjectMeta metadata = new ObjectMeta();
    metadata.setLabels(new LinkedHashMap<>());
    metadata.setAnnotations(new LinkedHashMap<>());
    PodSpec spec = new PodSpec();
    spec.setContainers(new ArrayList<>());
    spec.setInitContainers(new ArrayList<>());
    spec.setVolumes(new ArrayList<>());
    spec.setTolerations(new ArrayList<>());
    spec.setImagePullSecrets(new ArrayList<>());
    spec.setNodeSelector(new LinkedHashMap<>());

    Map<String, String> containerOwner = new LinkedHashMap<>();
    Map<String, String> volumeOwner = new LinkedHashMap<>();
    Map<String, String> scalarOwner = new LinkedHashMap<>();
    ObjectNode scalars = serialization.convertValue(new PodSpec(), ObjectNode.class);

    for (MemberSpec member : members) {
      PodTemplateSpec template =
          member.getTemplate() == null ? new PodTemplateSpec() : member.getTemplate();
      ObjectMeta meta = template.getMetadata() == null ? new ObjectMeta() : template.getMetadata();
      unite("label", meta.getLabels(), metadata.getLabels(), member.getName());
      unite("annotation", meta.getAnnotations(), metadata.getAnnotations(), member.getName());

      PodSpec memberSpec = template.getSpec() == null ? new PodSpec() : template.getSpec();
      if (memberSpec.getContainers() == null || memberSpec.getContainers().isEmpty()) {
        throw new MergeConflict(
            "member " + member.getName() + " has no containers: every member needs at least one");
      }
      addContainers(
          memberSpec.getContainers(), spec.getContainers(), containerOwner, member.getName());
      addContainers(
          memberSpec.getInitContainers(),
          spec.getInitContainers(),
          containerOwner,
          member.getName());
      for (Volume volume : nullToEmpty(memberSpec.getVolumes())) {
        String owner = volumeOwner.putIfAbsent(volume.getName(), member.getName());
        if (owner == null) {
          spec.getVolumes().add(volume);
        } else if (!volumeNamed(spec.getVolumes(), volume.getName()).equals(volume)) {
          throw new MergeConflict(
              "members "
                  + owner
                  + " and "
                  + member.getName()
                  + " both declare volume "
                  + volume.getName()
                  + " but differently; give them different names or make them identical");
        }
      }
      for (Toleration toleration : nullToEmpty(memberSpec.getTolerations())) {
        if (!spec.getTolerations().contains(toleration)) {
          spec.getTolerations().add(toleration);
        }
      }
      for (LocalObjectReference secret : nullToEmpty(memberSpec.getImagePullSecrets())) {
        if (!spec.getImagePullSecrets().contains(secret)) {
          spec.getImagePullSecrets().add(secret);
        }
      }
      unite("nodeSelector", memberSpec.getNodeSelector(), spec.getNodeSelector(), member.getName());
      mergeScalars(
          serialization.convertValue(memberSpec, ObjectNode.class),
          scalars,
          scalarOwner,
          member.getName());
    }

    PodSpec merged = serialization.convertValue(scalars, PodSpec.class);
    merged.setContainers(spec.getContainers());
    merged.setInitContainers(emptyToNull(spec.getInitContainers()));
    merged.setVolumes(spec.getVolumes());
    merged.setTolerations(emptyToNull(spec.getTolerations()));
    merged.setImagePullSecrets(emptyToNull(spec.getImagePullSecrets()));
    merged.setNodeSelector(spec.getNodeSelector().isEmpty() ? null : spec.getNodeSelector());
    merged.setResources(PodLevelResources.sum(members));
    PodTemplateSpec result = new PodTemplateSpec();
    result.setMetadata(metadata);
    result.setSpec(merged);
    return result;
  }

  private static void addContainers(
      List<Container> from, List<Container> into, Map<String, String> owners, String member) {
    for (Container container : nullToEmpty(from)) {
      String owner = owners.putIfAbsent(container.getName(), member);
      if (owner != null) {
        throw new MergeConflict(
            "members "
                + owner
                + " and "
                + member
                + " both have a container named "
                + container.getName()
                + "; container names must be unique across the members of a SamePod group");
      }
      into.add(container);
    }
  }

  private static void unite(
      String what, Map<String, String> from, Map<String, String> into, String member) {
    if (from == null) {
      return;
    }
    from.forEach(
        (key, value) -> {
          String existing = into.putIfAbsent(key, value);
          if (existing != null && !existing.equals(value)) {
            throw new MergeConflict(
                "members disagree on "
                    + what
                    + " "
                    + key
                    + ": \""
                    + existing
                    + "\" and \""
                    + value
                    + "\" (member "
                    + member
                    + "); SamePod members become one pod, so they must agree");
          }
        });
  }

  private static void mergeScalars(
      ObjectNode memberSpec, ObjectNode merged, Map<String, String> owners, String member) {
    Iterator<Map.Entry<String, JsonNode>> fields = memberSpec.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> field = fields.next();
      String name = field.getKey();
      JsonNode value = field.getValue();
      if (UNITED_FIELDS.contains(name) || value == null || value.isNull()) {
        continue;
      }
      String owner = owners.putIfAbsent(name, member);
      if (owner == null) {
        merged.set(name, value);
      } else if (!Objects.equals(merged.get(name), value)) {
        throw new MergeConflict(
            "members "
                + owner
                + " and "
                + member
                + " set pod field spec."
                + name
                + " differently ("
                + merged.get(name)
                + " and "
                + value
                + "); SamePod members become one pod, so "
                + "pod-level fields must agree or be set by one member only");
      }
    }
  }

  private static Volume volumeNamed(List<Volume> volumes, String name) {
    return volumes.stream().filter(v -> v.getName().equals(name)).findFirst().orElseThrow();
  }

  private static <T> List<T> nullToEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }

  private static <T> List<T> emptyToNull(List<T> list) {
    return list.isEmpty() ? null : list;
  }
}
