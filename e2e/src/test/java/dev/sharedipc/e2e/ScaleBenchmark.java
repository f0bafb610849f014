package dev.sharedipc.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.e2e.harness.Commands;
import dev.sharedipc.e2e.harness.E2EEnvironment;
import dev.sharedipc.e2e.harness.E2EExtension;
import dev.sharedipc.e2e.harness.OperatorProcess;
import dev.sharedipc.e2e.harness.TestNamespace;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The scale benchmark of issue 4 (not part of {@code ./mvnw verify}; run it with
 * {@code e2e/scale-benchmark.sh}): on {@code sharedipc.e2e.nodes} simulated nodes (100), the time
 * until N SamePod groups of R replicas (1,000 x 2) are all Ready, next to the time until the same
 * pods (as {@code sharedipc-operator render} prints them) are all Running and Ready when created as
 * N plain StatefulSets of R replicas, the baseline a user would pick instead; plus the operator's
 * peak heap and resident memory, run with the JVM options of its Deployment.
 * Targets: at most 1.5x the baseline, and the operator within 512 MiB.
 */
@ExtendWith(E2EExtension.class)
class ScaleBenchmark {
  private static final int GROUPS = Integer.getInteger("sharedipc.bench.groups", 1000);
  private static final int REPLICAS = Integer.getInteger("sharedipc.bench.replicas", 2);
  private static final int CREATORS = Integer.getInteger("sharedipc.bench.creators", 8);
  private static final Duration LIMIT = Duration.ofMinutes(Long.getLong("sharedipc.bench.timeoutMinutes", 20));
  private static final Duration POLL = Duration.ofSeconds(1);
  private static final double TARGET_RATIO = 1.5;
  private static final long TARGET_MIB = 512;

  @Test
  void samePodGroupsAgainstPlainStatefulSets(E2EEnvironment env, TestNamespace ns) throws Exception {
    KubernetesClient client = env.admin();
    int pods = GROUPS * REPLICAS;
    log("scale benchmark: %d nodes, %d groups x %d replicas = %d pods, %d concurrent creators",
        env.nodes().count(), GROUPS, REPLICAS, pods, CREATORS);

    // Baseline: the operator's own pod for such a group, as N StatefulSets (default OrderedReady).
    PodSpec spec = renderedPodSpec(env);
    long stsStart = System.nanoTime();
    createAll(i -> client.apps().statefulSets().inNamespace(ns.name()).resource(statefulSet("sts-" + i, spec)).create());
    long created = System.nanoTime();
    log("baseline: %d StatefulSets created in %.1f s; waiting for %d pods Running and Ready", GROUPS, secs(stsStart, created), pods);
    awaitCount("StatefulSet pods Running and Ready", pods, () -> client.pods().inNamespace(ns.name()).withLabel("bench", "sts")
        .list().getItems().stream().filter(Groups::isReady).count());
    double baseline = secs(stsStart, System.nanoTime());
    log("baseline: all %d pods Running and Ready after %.1f s", pods, baseline);

    client.apps().statefulSets().inNamespace(ns.name()).withLabel("bench", "sts").delete();
    awaitCount("StatefulSet pods gone", 0, () -> client.pods().inNamespace(ns.name()).withLabel("bench", "sts").list().getItems().size());

    Groups groups = new Groups(client, ns.name());
    long groupStart = System.nanoTime();
    createAll(i -> groups.api().inNamespace(ns.name()).resource(Groups.small("g-" + i, REPLICAS)).create());
    created = System.nanoTime();
    log("operator: %d SharedIpcGroups created in %.1f s; waiting for all Ready", GROUPS, secs(groupStart, created));
    awaitCount("SharedIpcGroups Ready", GROUPS, () -> groups.api().inNamespace(ns.name()).list().getItems().stream()
        .filter(g -> g.getStatus() != null && Integer.valueOf(REPLICAS).equals(g.getStatus().getReadyInstances())
            && g.getMetadata().getGeneration().equals(g.getStatus().getObservedGeneration())
            && Groups.condition(g, "Ready") != null && "True".equals(Groups.condition(g, "Ready").getStatus()))
        .count());
    double operator = secs(groupStart, System.nanoTime());
    long heap = env.operator().peakHeapMiB();
    long live = env.operator().liveHeapAfterFullGcMiB();
    long rss = env.operator().peakRssMiB();

    double ratio = operator / baseline;
    String report = String.join("\n",
        "",
        String.format("scale benchmark: %d KWOK nodes, %d groups x %d replicas = %d pods, created by %d clients",
            env.nodes().count(), GROUPS, REPLICAS, pods, CREATORS),
        String.format("  %-44s %10s", "", "all Ready"),
        String.format("  %-44s %9.1fs", "StatefulSets (baseline, OrderedReady)", baseline),
        String.format("  %-44s %9.1fs", "SharedIpcGroups (SamePod, operator)", operator),
        String.format("  %-44s %9.2fx  target <= %.1fx: %s", "operator / baseline", ratio, TARGET_RATIO,
            ratio <= TARGET_RATIO ? "met" : "MISSED"),
        String.format("  operator JVM: %s", String.join(" ", OperatorProcess.jvmOptions())),
        String.format("  operator peak heap %d MiB (before a GC), live heap %s, peak RSS %d MiB; target <= %d MiB: %s",
            heap, live == 0 ? "unknown (no full GC)" : live + " MiB (after a full GC)", rss, TARGET_MIB,
            rss <= TARGET_MIB ? "met" : "MISSED"),
        "");
    System.out.println(report);
    Path result = env.logDir().resolve("scale-benchmark.txt");
    Files.writeString(result, report, StandardCharsets.UTF_8);
    log("result written to %s", result);

    assertThat(ratio).as("SamePod groups Ready / StatefulSet pods Ready").isLessThanOrEqualTo(TARGET_RATIO);
    assertThat(rss).as("operator peak RSS, MiB").isLessThanOrEqualTo(TARGET_MIB);
  }

  private static PodSpec renderedPodSpec(E2EEnvironment env) throws IOException {
    Path file = env.logDir().resolve("bench-group.yaml");
    Files.writeString(file, Serialization.asYaml(Groups.small("bench", REPLICAS)), StandardCharsets.UTF_8);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String out = Commands.run(List.of(java, "-jar", env.operatorJar().toString(),
        "render", "-f", file.toString()), Map.of(), env.logDir().resolve("render.log"), false, Duration.ofMinutes(1))
        .orThrow("sharedipc-operator render").output();
    List<HasMetadata> items = env.admin().load(new ByteArrayInputStream(out.getBytes(StandardCharsets.UTF_8))).items();
    return items.stream().filter(Pod.class::isInstance).map(p -> ((Pod) p).getSpec()).findFirst()
        .orElseThrow(() -> new IllegalStateException("render printed no pod:\n" + out));
  }

  private static StatefulSet statefulSet(String name, PodSpec spec) {
    return new StatefulSetBuilder()
        .withNewMetadata().withName(name).addToLabels("bench", "sts").endMetadata()
        .withNewSpec().withReplicas(REPLICAS).withServiceName(name)
        .withNewSelector().addToMatchLabels("bench-sts", name).endSelector()
        .withNewTemplate().withNewMetadata().addToLabels("bench", "sts").addToLabels("bench-sts", name).endMetadata()
        .withSpec(spec).endTemplate()
        .endSpec().build();
  }


  /** Creates objects 0..GROUPS-1 from CREATORS threads, as a busy CI pipeline or GitOps sync would. */
  private static void createAll(IntFunction<?> create) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(CREATORS);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int i = 0; i < GROUPS; i++) {
        int index = i;
        done.add(pool.submit(() -> create.apply(index)));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdown();
    }
  }

  /** Waits for a count, logging it every 10 s so that a long wait shows its progress. */
  private static void awaitCount(String what, long expected, LongSupplier count) {
    long t0 = System.nanoTime();
    long[] nextLog = {t0 + 10_000_000_000L};
    await(what).atMost(LIMIT).pollInterval(POLL).until(() -> {
      long n = count.getAsLong();
      if (System.nanoTime() > nextLog[0]) {
        log("%s: %d of %d after %.0f s", what, n, expected, secs(t0, System.nanoTime()));
        nextLog[0] += 10_000_000_000L;
      }
      return n == expected;
    });
  }

  private static double secs(long from, long to) {
    return (to - from) / 1e9;
  }

  private static void log(String format, Object... args) {
    System.err.println("[bench] " + String.format(format, args));
  }
}
