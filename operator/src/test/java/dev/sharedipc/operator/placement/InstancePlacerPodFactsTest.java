package dev.sharedipc.operator.placement;

import static dev.sharedipc.operator.placement.PlacementFixtures.member;
import static dev.sharedipc.operator.placement.PlacementFixtures.memberPod;
import static dev.sharedipc.operator.placement.PlacementFixtures.nodeBuilder;
import static dev.sharedipc.operator.placement.PlacementFixtures.pod;
import static dev.sharedipc.operator.placement.PlacementFixtures.running;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.AffinityBuilder;
import io.fabric8.kubernetes.api.model.ContainerPortBuilder;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodAffinityTerm;
import io.fabric8.kubernetes.api.model.PodAffinityTermBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The placer's pod-level facts: resources other than cpu and memory (GPUs, any extended resource
 * the node advertises), host ports, and required pod anti-affinity. One table: the instances to
 * place, the nodes with the pods already on them, and where each instance must go (or what the
 * NoFit says).
 */
class InstancePlacerPodFactsTest {

  /**
   * One row: instances (members already rendered as pods), nodes, and per instance the node or
   * "!reason: message part".
   */
  record Case(
      String name, List<InstanceDemand> instances, List<NodeInfo> nodes, List<String> expected) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Case> cases() {
    return Stream.of(
        // ---- extended resources
        new Case(
            "a GPU member goes to the node that advertises GPUs",
            List.of(instance(0, gpuMember("trainer", 1), pod("feeder", "100m", "64Mi"))),
            List.of(node("cpu-only"), node("gpu-node", Map.of("nvidia.com/gpu", "1"))),
            List.of("gpu-node")),
        new Case(
            "GPUs already requested on the node are not free",
            List.of(instance(0, gpuMember("trainer", 1))),
            List.of(
                node(
                    "gpu-node",
                    Map.of("nvidia.com/gpu", "1"),
                    running("other", "job", "gpu-node", gpuMember("job", 1), Map.of()))),
            List.of("!NoNodeFits: gpu-node lacks nvidia.com/gpu 1")),
        new Case(
            "the second instance does not get the GPU the first one took",
            List.of(instance(0, gpuMember("trainer", 2)), instance(1, gpuMember("trainer", 2))),
            List.of(node("gpu-node", Map.of("nvidia.com/gpu", "3"))),
            List.of(
                "gpu-node",
                "!NoNodeFits: (needs 1 pod, cpu 100m, memory 64Mi, nvidia.com/gpu 2): gpu-node lacks nvidia.com/gpu 1")),
        new Case(
            "a resource the node does not advertise does not fit",
            List.of(instance(0, extended("app", "example.com/foo", "1"))),
            List.of(node("plain")),
            List.of("!NoNodeFits: plain lacks example.com/foo 1 (not advertised)")),
        new Case(
            "limits of an extended resource count as its request; the members' needs add up",
            List.of(
                instance(
                    0,
                    extendedLimit("a", "example.com/foo", "2"),
                    extendedLimit("b", "example.com/foo", "2"))),
            List.of(
                node("three", Map.of("example.com/foo", "3")),
                node("four", Map.of("example.com/foo", "4"))),
            List.of("four")),
        new Case(
            "hugepages are compared in bytes",
            List.of(instance(0, extended("app", "hugepages-2Mi", "4Mi"))),
            List.of(node("small", Map.of("hugepages-2Mi", "2Mi"))),
            List.of("!NoNodeFits: small lacks hugepages-2Mi 2Mi")),

        // ---- host ports
        new Case(
            "a host port in use on a node sends the instance to another",
            List.of(instance(0, withHostPort("web", 8080, null, null))),
            List.of(
                node(
                    "a",
                    Map.of(),
                    running(
                        "other", "proxy", "a", withHostPort("proxy", 8080, null, null), Map.of())),
                node("b")),
            List.of("b")),
        new Case(
            "the port's owner is named when no node is left",
            List.of(instance(0, withHostPort("web", 8080, null, null))),
            List.of(
                node(
                    "a",
                    Map.of(),
                    running(
                        "other", "proxy", "a", withHostPort("proxy", 8080, null, null), Map.of()))),
            List.of(
                "!NoNodeFits: a already has host port 8080/TCP of member web in use by pod other/proxy")),
        new Case(
            "another protocol or another host IP is no collision",
            List.of(
                instance(
                    0,
                    withHostPort("dns", 53, "UDP", null),
                    withHostPort("web", 8080, null, "10.0.0.2"))),
            List.of(
                node(
                    "a",
                    Map.of(),
                    running(
                        "other", "dns-tcp", "a", withHostPort("dns", 53, "TCP", null), Map.of()),
                    running(
                        "other",
                        "web-1",
                        "a",
                        withHostPort("web", 8080, null, "10.0.0.1"),
                        Map.of()))),
            List.of("a")),
        new Case(
            "a specific host IP collides with the wildcard",
            List.of(instance(0, withHostPort("web", 8080, null, "10.0.0.2"))),
            List.of(
                node(
                    "a",
                    Map.of(),
                    running("other", "any", "a", withHostPort("any", 8080, null, null), Map.of()))),
            List.of("!NoNodeFits: a already has host port 10.0.0.2:8080/TCP")),
        new Case(
            "two members with one host port can never share a node",
            List.of(
                instance(
                    0, withHostPort("a", 9000, null, null), withHostPort("b", 9000, null, null))),
            List.of(node("n")),
            List.of(
                "!MembersExcludeEachOther: members cannot share a node: member a and member b both use host port 9000/TCP")),
        new Case(
            "instances placed in one call keep their host ports",
            List.of(
                instance(0, withHostPort("web", 8080, null, null)),
                instance(1, withHostPort("web", 8080, null, null))),
            List.of(node("a")),
            List.of(
                "a",
                "!NoNodeFits: a already has host port 8080/TCP of member web in use by pod ns/g-0-web")),

        // ---- required pod anti-affinity per hostname
        new Case(
            "a member avoids the node running a pod its anti-affinity selects",
            List.of(instance(0, antiAffine("app", "app", "db", List.of()))),
            List.of(
                node(
                    "a",
                    Map.of(),
                    running("ns", "db-0", "a", pod("db", null, null), Map.of("app", "db"))),
                node("b")),
            List.of("b")),
        new Case(
            "anti-affinity is symmetric: a running pod's term that selects the member keeps it away",
            List.of(instance(0, labelled(0, pod("app", null, null), Map.of("tier", "cache")))),
            List.of(
                node(
                    "a",
                    Map.of(),
                    running(
                        "ns",
                        "lonely",
                        "a",
                        antiAffine("lonely", "tier", "cache", List.of()),
                        Map.of()))),
            List.of(
                "!NoNodeFits: a runs pod ns/lonely: pod ns/lonely has required anti-affinity (tier=cache per "
                    + "kubernetes.io/hostname) matching member app")),
        new Case(
            "a term without namespaces selects only pods of its own namespace",
            List.of(instance(0, antiAffine("app", "app", "db", List.of()))),
            List.of(
                node(
                    "a",
                    Map.of(),
                    running("elsewhere", "db-0", "a", pod("db", null, null), Map.of("app", "db")))),
            List.of("a")),
        new Case(
            "listed namespaces are honoured",
            List.of(instance(0, antiAffine("app", "app", "db", List.of("elsewhere")))),
            List.of(
                node(
                    "a",
                    Map.of(),
                    running("elsewhere", "db-0", "a", pod("db", null, null), Map.of("app", "db")))),
            List.of(
                "!NoNodeFits: a runs pod elsewhere/db-0: member app has required anti-affinity (app=db per kubernetes.io/hostname)")),
        new Case(
            "one member per node across instances (a term selecting the member's own label)",
            List.of(
                instance(
                    0,
                    labelled(
                        0, antiAffine("app", "role", "solo", List.of()), Map.of("role", "solo"))),
                instance(
                    1,
                    labelled(
                        1, antiAffine("app", "role", "solo", List.of()), Map.of("role", "solo"))),
                instance(
                    2,
                    labelled(
                        2, antiAffine("app", "role", "solo", List.of()), Map.of("role", "solo")))),
            List.of(node("a"), node("b")),
            List.of(
                "a",
                "b",
                "!NoNodeFits: member app has required anti-affinity (role=solo per kubernetes.io/hostname)")),
        new Case(
            "members whose anti-affinity selects each other can never share a node",
            List.of(
                new InstanceDemand(
                    0,
                    List.of(
                        memberPod(0, antiAffine("a", "member-of", "x", List.of()), Map.of()),
                        memberPod(0, pod("b", null, null), Map.of("member-of", "x"))),
                    0)),
            List.of(node("n")),
            List.of(
                "!MembersExcludeEachOther: member a has required anti-affinity (member-of=x per kubernetes.io/hostname) "
                    + "matching member b")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void placesByPodFacts(Case c) {
    List<NodeChoice> result =
        new InstancePlacer().place(c.instances(), c.nodes(), Map.of(), Set.of());
    assertThat(result).hasSize(c.expected().size());
    for (int i = 0; i < result.size(); i++) {
      String expected = c.expected().get(i);
      NodeChoice p = result.get(i);
      if (expected.startsWith("!")) {
        String reason = expected.substring(1, expected.indexOf(':'));
        String part = expected.substring(expected.indexOf(':') + 2);
        assertThat(p).as("instance %d", i).isInstanceOf(NodeChoice.NoFit.class);
        assertThat(((NodeChoice.NoFit) p).reason()).isEqualTo(reason);
        assertThat(((NodeChoice.NoFit) p).message()).contains(part);
      } else {
        assertThat(p).as("instance %d: %s", i, p).isInstanceOf(NodeChoice.Placed.class);
        assertThat(((NodeChoice.Placed) p).node()).isEqualTo(expected);
        assertThat(((NodeChoice.Placed) p).unchecked()).isNull();
      }
    }
  }

  static Stream<Arguments> uncheckedCases() {
    return Stream.of(
        Arguments.of(
            antiAffine(term("zone-solo", "topology.kubernetes.io/zone", null)),
            "member app has required pod anti-affinity over topology key topology.kubernetes.io/zone"),
        Arguments.of(
            antiAffine(term("ns-selected", "kubernetes.io/hostname", Map.of("team", "a"))),
            "member app has required pod anti-affinity with a namespaceSelector"),
        Arguments.of(
            new io.fabric8.kubernetes.api.model.PodSpecBuilder(pod("app", null, null))
                .withAffinity(
                    new AffinityBuilder()
                        .withNewPodAffinity()
                        .addToRequiredDuringSchedulingIgnoredDuringExecution(
                            term("near", "kubernetes.io/hostname", null))
                        .endPodAffinity()
                        .build())
                .build(),
            "member app has required pod affinity"));
  }

  @ParameterizedTest
  @MethodSource("uncheckedCases")
  void whatThePlacerCannotJudgeIsPlacedAndNamedForTheScheduler(PodSpec spec, String note) {
    // A pod the zone term would select runs on the only node: the placer cannot judge zones and
    // does not refuse.
    NodeInfo n =
        node(
            "n",
            Map.of(),
            running(
                "ns",
                "peer",
                "n",
                pod("peer", null, null),
                Map.of("app", "zone-solo", "x", "ns-selected")));
    NodeChoice p =
        new InstancePlacer()
            .place(List.of(instance(0, spec)), List.of(n), Map.of(), Set.of())
            .get(0);
    assertThat(p).isInstanceOf(NodeChoice.Placed.class);
    assertThat(((NodeChoice.Placed) p).unchecked())
        .isEqualTo("not judged by the operator, left to the scheduler: " + note);
  }

  // ---- fixtures

  private static InstanceDemand instance(int index, Object... members) {
    List<Pod> pods = new ArrayList<>();
    for (Object m : members) {
      pods.add(m instanceof Pod pod ? pod : memberPod(index, (PodSpec) m, Map.of()));
    }
    return new InstanceDemand(index, pods, 0);
  }

  private static Pod labelled(int index, PodSpec spec, Map<String, String> labels) {
    return memberPod(index, spec, labels);
  }

  private static NodeInfo node(String name) {
    return node(name, Map.of());
  }

  private static NodeInfo node(String name, Map<String, String> extended, Pod... pods) {
    var b = nodeBuilder(name, "8", "16Gi", 110);
    extended.forEach((k, v) -> b.editStatus().addToAllocatable(k, new Quantity(v)).endStatus());
    return NodeInfo.of(b.build(), List.of(pods));
  }

  private static PodSpec gpuMember(String name, int gpus) {
    PodSpec spec = pod(name, "100m", "64Mi");
    spec.getContainers()
        .get(0)
        .getResources()
        .setLimits(Map.of("nvidia.com/gpu", new Quantity(Integer.toString(gpus))));
    return spec;
  }

  private static PodSpec extended(String name, String resource, String amount) {
    PodSpec spec = pod(name, null, null);
    spec.getContainers().get(0).getResources().setRequests(Map.of(resource, new Quantity(amount)));
    return spec;
  }

  private static PodSpec extendedLimit(String name, String resource, String amount) {
    PodSpec spec = pod(name, null, null);
    spec.getContainers().get(0).getResources().setLimits(Map.of(resource, new Quantity(amount)));
    return spec;
  }

  private static PodSpec withHostPort(String name, int port, String protocol, String hostIp) {
    PodSpec spec = pod(name, null, null);
    spec.getContainers()
        .get(0)
        .setPorts(
            List.of(
                new ContainerPortBuilder()
                    .withContainerPort(port)
                    .withHostPort(port)
                    .withProtocol(protocol)
                    .withHostIP(hostIp)
                    .build()));
    return spec;
  }

  private static PodSpec antiAffine(
      String name, String key, String value, List<String> namespaces) {
    PodAffinityTerm term =
        new PodAffinityTermBuilder()
            .withTopologyKey("kubernetes.io/hostname")
            .withNamespaces(namespaces)
            .withLabelSelector(new LabelSelectorBuilder().addToMatchLabels(key, value).build())
            .build();
    return member(name, null, null)
        .withAffinity(
            new AffinityBuilder()
                .withNewPodAntiAffinity()
                .addToRequiredDuringSchedulingIgnoredDuringExecution(term)
                .endPodAntiAffinity()
                .build())
        .build();
  }

  private static PodSpec antiAffine(PodAffinityTerm term) {
    return member("app", null, null)
        .withAffinity(
            new AffinityBuilder()
                .withNewPodAntiAffinity()
                .addToRequiredDuringSchedulingIgnoredDuringExecution(term)
                .endPodAntiAffinity()
                .build())
        .build();
  }

  private static PodAffinityTerm term(
      String app, String topologyKey, Map<String, String> namespaceLabels) {
    PodAffinityTermBuilder b =
        new PodAffinityTermBuilder()
            .withTopologyKey(topologyKey)
            .withLabelSelector(new LabelSelectorBuilder().addToMatchLabels("app", app).build());
    if (namespaceLabels != null) {
      b.withNamespaceSelector(new LabelSelectorBuilder().addToMatchLabels(namespaceLabels).build());
    }
    return b.build();
  }
}
