package dev.sharedipc.operator.placement;

import io.fabric8.kubernetes.api.model.NodeSelector;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.NodeSelectorTerm;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.Toleration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The kube-scheduler's node filters that do not depend on resources, for one pod against one node:
 * {@code nodeSelector}, required node affinity, and NoSchedule/NoExecute taints against the pod's
 * tolerations. Each check answers null when the pod may go there, else a phrase saying why not.
 * Semantics follow k8s.io/component-helpers (nodeaffinity) and {@code
 * v1helper.TolerationsTolerateTaint}.
 */
final class NodeConstraints {
  private NodeConstraints() {}

  /**
   * A nodeSelector entry the node lacks: what the pod wants, and the node's value if it has the
   * key.
   */
  record SelectorMismatch(String key, String wanted, String actual) {
    String wantedText() {
      return key + "=" + wanted;
    }

    String actualText() {
      return actual == null ? "no label " + key : key + "=" + actual;
    }
  }

  /** Null when every nodeSelector entry is a node label, else the first (by key) that is not. */
  static SelectorMismatch nodeSelectorMismatch(PodSpec pod, NodeInfo node) {
    Map<String, String> selector = pod.getNodeSelector();
    if (selector == null) {
      return null;
    }
    for (var entry : new TreeMap<>(selector).entrySet()) {
      String actual = node.labels().get(entry.getKey());
      if (!entry.getValue().equals(actual)) {
        return new SelectorMismatch(entry.getKey(), entry.getValue(), actual);
      }
    }
    return null;
  }

  /** Null when the required node affinity matches (or there is none), else what failed. */
  static String affinityMismatch(PodSpec pod, NodeInfo node) {
    NodeSelector required =
        pod.getAffinity() == null || pod.getAffinity().getNodeAffinity() == null
            ? null
            : pod.getAffinity()
                .getNodeAffinity()
                .getRequiredDuringSchedulingIgnoredDuringExecution();
    if (required == null) {
      return null;
    }
    List<NodeSelectorTerm> terms =
        required.getNodeSelectorTerms() == null ? List.of() : required.getNodeSelectorTerms();
    String firstFailure = null;
    for (NodeSelectorTerm term : terms) {
      String failure = termMismatch(term, node);
      if (failure == null) {
        return null;
      }
      if (firstFailure == null) {
        firstFailure = failure;
      }
    }
    if (terms.size() == 1) {
      return firstFailure;
    }
    return "none of its "
        + terms.size()
        + " nodeSelectorTerms"
        + (firstFailure == null ? "" : " (first: " + firstFailure + ")");
  }

  /**
   * Terms are ORed, the requirements inside one ANDed; a term with no requirement matches nothing.
   */
  private static String termMismatch(NodeSelectorTerm term, NodeInfo node) {
    List<NodeSelectorRequirement> expressions = nullToEmpty(term.getMatchExpressions());
    List<NodeSelectorRequirement> fields = nullToEmpty(term.getMatchFields());
    if (expressions.isEmpty() && fields.isEmpty()) {
      return "an empty nodeSelectorTerm, which matches no node";
    }
    for (NodeSelectorRequirement r : expressions) {
      if (!labelMatches(r, node.labels())) {
        return describe(r);
      }
    }
    for (NodeSelectorRequirement r : fields) {
      if (!fieldMatches(r, node.name())) {
        return "field " + describe(r);
      }
    }
    return null;
  }

  static boolean labelMatches(NodeSelectorRequirement r, Map<String, String> labels) {
    String key = r.getKey();
    List<String> values = nullToEmpty(r.getValues());
    boolean has = labels.containsKey(key);
    String value = labels.get(key);
    switch (r.getOperator() == null ? "" : r.getOperator()) {
      case "In":
        return has && values.contains(value);
      case "NotIn":
        return !has || !values.contains(value);
      case "Exists":
        return has;
      case "DoesNotExist":
        return !has;
      case "Gt":
      case "Lt":
        {
          if (!has || values.size() != 1) {
            return false;
          }
          Long actual = parseLong(value);
          Long bound = parseLong(values.get(0));
          if (actual == null || bound == null) {
            return false;
          }
          return "Gt".equals(r.getOperator()) ? actual > bound : actual < bound;
        }
      default:
        return false;
    }
  }

  /** Only metadata.name is a node field the scheduler knows, with In and NotIn. */
  private static boolean fieldMatches(NodeSelectorRequirement r, String nodeName) {
    if (!"metadata.name".equals(r.getKey())) {
      return false;
    }
    List<String> values = nullToEmpty(r.getValues());
    if ("In".equals(r.getOperator())) {
      return values.contains(nodeName);
    }
    if ("NotIn".equals(r.getOperator())) {
      return !values.contains(nodeName);
    }
    return false;
  }

  /** The first NoSchedule or NoExecute taint the pod does not tolerate, or null. */
  static Taint untoleratedTaint(PodSpec pod, NodeInfo node) {
    List<Toleration> tolerations = nullToEmpty(pod.getTolerations());
    for (Taint taint : node.taints()) {
      if (!"NoSchedule".equals(taint.getEffect()) && !"NoExecute".equals(taint.getEffect())) {
        continue;
      }
      if (tolerations.stream().noneMatch(t -> tolerates(t, taint))) {
        return taint;
      }
    }
    return null;
  }

  /** v1 Toleration.ToleratesTaint: empty effect matches every effect, empty key every key. */
  static boolean tolerates(Toleration t, Taint taint) {
    if (!isEmpty(t.getEffect()) && !t.getEffect().equals(taint.getEffect())) {
      return false;
    }
    if (!isEmpty(t.getKey()) && !t.getKey().equals(taint.getKey())) {
      return false;
    }
    String operator = isEmpty(t.getOperator()) ? "Equal" : t.getOperator();
    if ("Exists".equals(operator)) {
      return true;
    }
    if ("Equal".equals(operator)) {
      return nullToEmpty(t.getValue()).equals(nullToEmpty(taint.getValue()));
    }
    return false;
  }

  static String describe(Taint taint) {
    return taint.getKey()
        + (isEmpty(taint.getValue()) ? "" : "=" + taint.getValue())
        + ":"
        + taint.getEffect();
  }

  private static String describe(NodeSelectorRequirement r) {
    String op = r.getOperator();
    if ("Exists".equals(op) || "DoesNotExist".equals(op)) {
      return r.getKey() + " " + op;
    }
    List<String> values = nullToEmpty(r.getValues());
    if (("Gt".equals(op) || "Lt".equals(op)) && values.size() == 1) {
      return r.getKey() + " " + op + " " + values.get(0);
    }
    return r.getKey() + " " + op + " [" + String.join(", ", values) + "]";
  }

  private static Long parseLong(String s) {
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static boolean isEmpty(String s) {
    return s == null || s.isEmpty();
  }

  private static String nullToEmpty(String s) {
    return s == null ? "" : s;
  }

  private static <T> List<T> nullToEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }
}
