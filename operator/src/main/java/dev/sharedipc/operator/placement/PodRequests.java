package dev.sharedipc.operator.placement;

import dev.sharedipc.operator.render.Quantities;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one pod asks of its node, by the kube-scheduler's rule ({@code resourcehelper.PodRequests}):
 * the sum of the app containers' requests, raised to the largest init container's request, plus
 * {@code spec.overhead}. Restartable (sidecar) init containers run alongside everything started
 * after them, so they add to the sum and to every later init container. A container with a limit
 * and no request requests its limit, as API defaulting makes it; pod-level {@code spec.resources},
 * where set, replaces the containers' sum for cpu and memory. Every other resource a pod requests
 * (extended resources such as {@code nvidia.com/gpu}, {@code hugepages-2Mi}, {@code
 * ephemeral-storage}) follows the same rule and is counted in whole units, as the scheduler counts
 * scalar resources. Every amount is read capped at what a long holds (any pod may ask for more:
 * nothing of ours bounds it), so that one pod never stops placement for every group.
 */
public final class PodRequests {
  /**
   * Cpu in millicores, memory in bytes, and every other requested resource by name in whole units
   * (bytes for hugepages and ephemeral-storage); resources requested at zero are left out.
   */
  public record Resources(long cpuMillis, long memoryBytes, Map<String, Long> other) {
    public static final Resources NONE = new Resources(0, 0);

    public Resources {
      other = other == null ? Map.of() : Map.copyOf(other);
    }

    public Resources(long cpuMillis, long memoryBytes) {
      this(cpuMillis, memoryBytes, Map.of());
    }

    public Resources plus(Resources other) {
      return new Resources(
          saturatedSum(cpuMillis, other.cpuMillis),
          saturatedSum(memoryBytes, other.memoryBytes),
          merge(this.other, other.other, PodRequests::saturatedSum));
    }

    Resources max(Resources other) {
      return new Resources(
          Math.max(cpuMillis, other.cpuMillis),
          Math.max(memoryBytes, other.memoryBytes),
          merge(this.other, other.other, Math::max));
    }

    private static Map<String, Long> merge(
        Map<String, Long> a, Map<String, Long> b, java.util.function.BinaryOperator<Long> f) {
      if (b.isEmpty()) {
        return a;
      }
      Map<String, Long> out = new TreeMap<>(a);
      b.forEach((k, v) -> out.merge(k, v, f));
      return out;
    }
  }

  private PodRequests() {}

  /** A sum that stops at Long.MAX_VALUE: one pod asking for more than a long holds fills a node. */
  static long saturatedSum(long a, long b) {
    long sum = a + b;
    return ((a ^ sum) & (b ^ sum)) < 0 ? (a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE) : sum;
  }

  public static Resources of(PodSpec spec) {
    if (spec == null) {
      return Resources.NONE;
    }
    Resources sum = Resources.NONE;
    for (Container c : nullToEmpty(spec.getContainers())) {
      sum = sum.plus(ofContainer(c.getResources()));
    }
    Resources sidecars = Resources.NONE;
    Resources initMax = Resources.NONE;
    for (Container c : nullToEmpty(spec.getInitContainers())) {
      Resources own = ofContainer(c.getResources());
      Resources whileRunning;
      if ("Always".equals(c.getRestartPolicy())) {
        sum = sum.plus(own);
        sidecars = sidecars.plus(own);
        whileRunning = sidecars;
      } else {
        whileRunning = own.plus(sidecars);
      }
      initMax = initMax.max(whileRunning);
    }
    Resources pod = sum.max(initMax);
    pod = podLevel(spec.getResources(), pod);
    Map<String, Quantity> overhead = spec.getOverhead();
    if (overhead != null) {
      pod =
          pod.plus(
              new Resources(
                  cpuMillis(overhead.get("cpu")),
                  memoryBytes(overhead.get("memory")),
                  others(overhead)));
    }
    return pod;
  }

  /** Pod-level resources (PodLevelResources): each resource set there wins over the containers'. */
  private static Resources podLevel(ResourceRequirements podResources, Resources fromContainers) {
    if (podResources == null) {
      return fromContainers;
    }
    Quantity cpu = requestOrLimit(podResources, "cpu");
    Quantity memory = requestOrLimit(podResources, "memory");
    return new Resources(
        cpu == null ? fromContainers.cpuMillis() : cpuMillis(cpu),
        memory == null ? fromContainers.memoryBytes() : memoryBytes(memory),
        fromContainers.other());
  }

  static Resources ofContainer(ResourceRequirements resources) {
    if (resources == null) {
      return Resources.NONE;
    }
    Map<String, Quantity> named = new TreeMap<>();
    if (resources.getLimits() != null) {
      named.putAll(resources.getLimits());
    }
    if (resources.getRequests() != null) {
      named.putAll(resources.getRequests());
    }
    return new Resources(
        cpuMillis(named.get("cpu")), memoryBytes(named.get("memory")), others(named));
  }

  /**
   * Every resource but cpu and memory, in whole units rounded up (Quantity.Value), zeros left out.
   */
  static Map<String, Long> others(Map<String, Quantity> quantities) {
    Map<String, Long> out = new TreeMap<>();
    quantities.forEach(
        (name, q) -> {
          if (!"cpu".equals(name) && !"memory".equals(name) && q != null) {
            long units = Quantities.cappedBytes(q);
            if (units > 0) {
              out.put(name, units);
            }
          }
        });
    return out;
  }

  // API defaulting copies a limit into a missing request; pods built in memory never went
  // through the API server, so do the same here.
  private static Quantity requestOrLimit(ResourceRequirements resources, String name) {
    Quantity request = resources.getRequests() == null ? null : resources.getRequests().get(name);
    if (request != null) {
      return request;
    }
    return resources.getLimits() == null ? null : resources.getLimits().get(name);
  }

  /** Millicores, rounded up as Quantity.MilliValue does. */
  static long cpuMillis(Quantity q) {
    if (q == null) {
      return 0;
    }
    return Quantities.capped(
        Quantity.getAmountInBytes(q)
            .multiply(BigDecimal.valueOf(1000))
            .setScale(0, RoundingMode.CEILING));
  }

  static long memoryBytes(Quantity q) {
    return q == null ? 0 : Quantities.cappedBytes(q);
  }

  /** A plain count such as allocatable pods. */
  static long count(Quantity q) {
    return q == null
        ? 0
        : Quantities.capped(Quantity.getAmountInBytes(q).setScale(0, RoundingMode.FLOOR));
  }

  private static <T> List<T> nullToEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }
}
