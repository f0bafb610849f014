package dev.sharedipc.operator.placement;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodAffinityTerm;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Required pod anti-affinity ({@code requiredDuringSchedulingIgnoredDuringExecution}) between two
 * pods on one node, by the kube-scheduler's InterPodAffinity rule, for the topology key the
 * operator can judge node by node: {@code kubernetes.io/hostname}. A pod may not join a node where
 * a pod matches one of its terms, nor where a pod has a term that matches it (the rule is
 * symmetric). A term's pods are those its label selector matches (none when it has no selector;
 * {@code matchLabelKeys} and {@code mismatchLabelKeys} add the owner's values) in its namespaces
 * (the listed ones, every namespace for an empty namespaceSelector, the owner's own when neither is
 * given).
 *
 * <p>What it cannot judge from one node's pods it names instead ({@link #unchecked}): terms over
 * another topology key (a zone spans nodes), a namespaceSelector with conditions (namespace labels
 * are not read), and required pod affinity. Such a member is placed by everything else and the
 * scheduler judges the rest; terms of that kind on pods already running are left to the scheduler
 * alike.
 */
final class PodAntiAffinity {
  static final String HOSTNAME = "kubernetes.io/hostname";

  private PodAntiAffinity() {}

  /**
   * Null when {@code incoming} may share a node with {@code present}, else a phrase saying which
   * rule forbids it.
   */
  static String conflict(Pod incoming, String incomingName, Pod present, String presentName) {
    for (PodAffinityTerm term : terms(incoming)) {
      if (judgeable(term) && matches(term, incoming, present)) {
        return incomingName
            + " has required anti-affinity "
            + describe(term)
            + " matching "
            + presentName;
      }
    }
    for (PodAffinityTerm term : terms(present)) {
      if (judgeable(term) && matches(term, present, incoming)) {
        return presentName
            + " has required anti-affinity "
            + describe(term)
            + " matching "
            + incomingName;
      }
    }
    return null;
  }

  /**
   * The pod's inter-pod constraints the operator does not judge, as a phrase, or null when it
   * judges them all.
   */
  static String unchecked(Pod pod) {
    List<String> out = new ArrayList<>();
    for (PodAffinityTerm term : terms(pod)) {
      if (!HOSTNAME.equals(term.getTopologyKey())) {
        out.add("required pod anti-affinity over topology key " + term.getTopologyKey());
      } else if (!judgeable(term)) {
        out.add("required pod anti-affinity with a namespaceSelector");
      }
    }
    var affinity =
        pod.getSpec() == null || pod.getSpec().getAffinity() == null
            ? null
            : pod.getSpec().getAffinity().getPodAffinity();
    if (affinity != null
        && affinity.getRequiredDuringSchedulingIgnoredDuringExecution() != null
        && !affinity.getRequiredDuringSchedulingIgnoredDuringExecution().isEmpty()) {
      out.add("required pod affinity");
    }
    return out.isEmpty() ? null : String.join(", ", out.stream().distinct().toList());
  }

  private static List<PodAffinityTerm> terms(Pod pod) {
    var anti =
        pod.getSpec() == null || pod.getSpec().getAffinity() == null
            ? null
            : pod.getSpec().getAffinity().getPodAntiAffinity();
    if (anti == null || anti.getRequiredDuringSchedulingIgnoredDuringExecution() == null) {
      return List.of();
    }
    return anti.getRequiredDuringSchedulingIgnoredDuringExecution();
  }

  /** Per node: the hostname key, and namespaces known without reading namespace labels. */
  private static boolean judgeable(PodAffinityTerm term) {
    return HOSTNAME.equals(term.getTopologyKey())
        && (term.getNamespaceSelector() == null || isEmpty(term.getNamespaceSelector()));
  }

  /** Whether {@code owner}'s term selects {@code target}. */
  static boolean matches(PodAffinityTerm term, Pod owner, Pod target) {
    LabelSelector selector = term.getLabelSelector();
    if (selector == null) {
      return false;
    }
    String targetNamespace = namespace(target);
    boolean allNamespaces =
        term.getNamespaceSelector() != null && isEmpty(term.getNamespaceSelector());
    if (!allNamespaces) {
      List<String> names =
          term.getNamespaces() == null || term.getNamespaces().isEmpty()
              ? List.of(namespace(owner))
              : term.getNamespaces();
      if (!names.contains(targetNamespace)) {
        return false;
      }
    }
    Map<String, String> ownerLabels = labels(owner);
    Map<String, String> labels = labels(target);
    for (String key : nullToEmpty(term.getMatchLabelKeys())) {
      if (ownerLabels.containsKey(key) && !Objects.equals(labels.get(key), ownerLabels.get(key))) {
        return false;
      }
    }
    for (String key : nullToEmpty(term.getMismatchLabelKeys())) {
      if (ownerLabels.containsKey(key)
          && labels.containsKey(key)
          && labels.get(key).equals(ownerLabels.get(key))) {
        return false;
      }
    }
    return selects(selector, labels);
  }

  /**
   * metav1.LabelSelector semantics: every matchLabels entry and every expression must hold; an
   * empty selector selects all.
   */
  static boolean selects(LabelSelector selector, Map<String, String> labels) {
    if (selector.getMatchLabels() != null) {
      for (Map.Entry<String, String> e : selector.getMatchLabels().entrySet()) {
        if (!e.getValue().equals(labels.get(e.getKey()))) {
          return false;
        }
      }
    }
    for (LabelSelectorRequirement r : nullToEmpty(selector.getMatchExpressions())) {
      boolean has = labels.containsKey(r.getKey());
      Set<String> values = Set.copyOf(nullToEmpty(r.getValues()));
      boolean ok =
          switch (r.getOperator() == null ? "" : r.getOperator()) {
            case "In" -> has && values.contains(labels.get(r.getKey()));
            case "NotIn" -> !has || !values.contains(labels.get(r.getKey()));
            case "Exists" -> has;
            case "DoesNotExist" -> !has;
            default -> false;
          };
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  private static String describe(PodAffinityTerm term) {
    LabelSelector s = term.getLabelSelector();
    List<String> parts = new ArrayList<>();
    if (s.getMatchLabels() != null) {
      s.getMatchLabels().forEach((k, v) -> parts.add(k + "=" + v));
    }
    for (LabelSelectorRequirement r : nullToEmpty(s.getMatchExpressions())) {
      parts.add(
          r.getKey()
              + " "
              + r.getOperator()
              + (r.getValues() == null || r.getValues().isEmpty() ? "" : " " + r.getValues()));
    }
    return "("
        + (parts.isEmpty() ? "every pod" : String.join(", ", parts))
        + " per "
        + term.getTopologyKey()
        + ")";
  }

  private static boolean isEmpty(LabelSelector s) {
    return (s.getMatchLabels() == null || s.getMatchLabels().isEmpty())
        && (s.getMatchExpressions() == null || s.getMatchExpressions().isEmpty());
  }

  private static String namespace(Pod pod) {
    return pod.getMetadata() == null ? null : pod.getMetadata().getNamespace();
  }

  private static Map<String, String> labels(Pod pod) {
    return pod.getMetadata() == null || pod.getMetadata().getLabels() == null
        ? Map.of()
        : pod.getMetadata().getLabels();
  }

  private static <T> List<T> nullToEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }
}
