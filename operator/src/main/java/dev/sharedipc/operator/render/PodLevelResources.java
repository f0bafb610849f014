package dev.sharedipc.operator.render;

import dev.sharedipc.api.v1alpha1.MemberSpec;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Pod-level resources ({@code spec.resources} of a pod, beta and on by default since Kubernetes
 * 1.34) of a SamePod instance, whose one pod holds every member's containers.
 *
 * <p>Each member's template reads as the pod it would be alone, so the instance's pod gets the sum
 * of the members' budgets, per resource that any member sets at pod level. A member that sets none
 * for that resource contributes what its containers add up to, as Kubernetes would count it:
 * limits, the sum of its containers' limits (a member with an unlimited container cannot be summed,
 * since the pod-level limit would cap it: that is a {@link MergeConflict}); requests, the sum of
 * its containers' requests (a container's limit standing in for a missing request), else its
 * pod-level limit, else nothing. One member alone keeps its own {@code spec.resources} untouched.
 */
public final class PodLevelResources {
  private PodLevelResources() {}

  /** The merged pod's {@code spec.resources}, or null when no member sets any. */
  public static ResourceRequirements sum(List<MemberSpec> members) {
    List<PodSpec> specs =
        members.stream()
            .map(
                m ->
                    m.getTemplate() == null || m.getTemplate().getSpec() == null
                        ? new PodSpec()
                        : m.getTemplate().getSpec())
            .toList();
    if (specs.size() == 1) {
      return specs.get(0).getResources();
    }
    TreeSet<String> limited = new TreeSet<>();
    TreeSet<String> named = new TreeSet<>();
    for (PodSpec spec : specs) {
      limited.addAll(map(spec.getResources(), true).keySet());
      named.addAll(map(spec.getResources(), true).keySet());
      named.addAll(map(spec.getResources(), false).keySet());
    }
    if (named.isEmpty()) {
      return null;
    }
    Map<String, Quantity> limits = new LinkedHashMap<>();
    Map<String, Quantity> requests = new LinkedHashMap<>();
    for (String resource : named) {
      if (limited.contains(resource)) {
        BigDecimal total = BigDecimal.ZERO;
        for (int m = 0; m < specs.size(); m++) {
          total =
              total.add(
                  limit(specs.get(m), resource)
                      .orElseThrow(() -> unlimited(members, specs, resource)));
        }
        limits.put(resource, quantity(resource, total));
      }
      BigDecimal total = BigDecimal.ZERO;
      for (PodSpec spec : specs) {
        total = total.add(request(spec, resource));
      }
      requests.put(resource, quantity(resource, total));
    }
    ResourceRequirements merged = new ResourceRequirements();
    merged.setLimits(limits.isEmpty() ? null : limits);
    merged.setRequests(requests);
    return merged;
  }

  /** The memory limit at pod level in bytes, or null when none is set. */
  public static Long memoryLimit(PodSpec spec) {
    Quantity limit = map(spec.getResources(), true).get("memory");
    return limit == null ? null : Quantities.cappedBytes(limit);
  }

  /**
   * A member's limit for the resource: pod-level, else the sum of its containers' when every one
   * has one.
   */
  private static Optional<BigDecimal> limit(PodSpec spec, String resource) {
    Quantity podLevel = map(spec.getResources(), true).get(resource);
    if (podLevel != null) {
      return Optional.of(Quantities.amount(podLevel));
    }
    BigDecimal total = BigDecimal.ZERO;
    for (Container c : nullToEmpty(spec.getContainers())) {
      Quantity limit = map(c.getResources(), true).get(resource);
      if (limit == null) {
        return Optional.empty();
      }
      total = total.add(Quantities.amount(limit));
    }
    return Optional.of(total);
  }

  /**
   * A member's request for the resource, as Kubernetes would default it for the member's pod alone.
   */
  private static BigDecimal request(PodSpec spec, String resource) {
    Quantity podLevel = map(spec.getResources(), false).get(resource);
    if (podLevel != null) {
      return Quantities.amount(podLevel);
    }
    BigDecimal containers = BigDecimal.ZERO;
    boolean any = false;
    for (Container c : nullToEmpty(spec.getContainers())) {
      Quantity request =
          Optional.ofNullable(map(c.getResources(), false).get(resource))
              .orElse(map(c.getResources(), true).get(resource));
      if (request != null) {
        any = true;
        containers = containers.add(Quantities.amount(request));
      }
    }
    // An init container runs alone: the pod needs the larger of it and the app containers together.
    for (Container c : nullToEmpty(spec.getInitContainers())) {
      Quantity request =
          Optional.ofNullable(map(c.getResources(), false).get(resource))
              .orElse(map(c.getResources(), true).get(resource));
      if (request != null) {
        any = true;
        containers = containers.max(Quantities.amount(request));
      }
    }
    if (any) {
      return containers;
    }
    Quantity podLimit = map(spec.getResources(), true).get(resource);
    return podLimit == null ? BigDecimal.ZERO : Quantities.amount(podLimit);
  }

  private static MergeConflict unlimited(
      List<MemberSpec> members, List<PodSpec> specs, String resource) {
    List<String> setting = new ArrayList<>();
    String without = null;
    for (int m = 0; m < specs.size(); m++) {
      if (map(specs.get(m).getResources(), true).containsKey(resource)) {
        setting.add(members.get(m).getName());
      } else if (without == null && limit(specs.get(m), resource).isEmpty()) {
        without = members.get(m).getName();
      }
    }
    return new MergeConflict(
        "member "
            + String.join(", ", setting)
            + " sets a pod-level "
            + resource
            + " limit"
            + " (spec.resources.limits."
            + resource
            + ") but member "
            + without
            + " has a container without a "
            + resource
            + " limit; SamePod members become one pod, whose pod-level limit is the sum of the members' limits and caps"
            + " every container: give member "
            + without
            + " a pod-level "
            + resource
            + " limit or one on each of its"
            + " containers");
  }

  /**
   * Bytes for memory-like resources (as a user writes them, e.g. 768Mi); plain decimals (e.g. 1.5)
   * for the rest.
   */
  private static Quantity quantity(String resource, BigDecimal amount) {
    if ("cpu".equals(resource)) {
      BigDecimal millis = amount.movePointRight(3);
      return millis.stripTrailingZeros().scale() <= 0
              && millis.remainder(BigDecimal.valueOf(1000)).signum() != 0
          ? new Quantity(millis.toBigInteger().toString(), "m")
          : new Quantity(amount.stripTrailingZeros().toPlainString());
    }
    return Quantities.ofBytes(
        amount.setScale(0, java.math.RoundingMode.CEILING).toBigIntegerExact());
  }

  private static Map<String, Quantity> map(ResourceRequirements resources, boolean limits) {
    if (resources == null) {
      return Map.of();
    }
    Map<String, Quantity> map = limits ? resources.getLimits() : resources.getRequests();
    return map == null ? Map.of() : map;
  }

  private static <T> List<T> nullToEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }
}
