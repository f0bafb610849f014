package dev.sharedipc.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sharedipc.api.testing.RealApiServer;
import dev.sharedipc.api.v1alpha1.SharedIpcNode;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeSpec;
import dev.sharedipc.api.v1alpha1.SharedIpcNodeStatus;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceAttributesBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The node agent's install in deploy/: the DaemonSet asks for exactly the privileges the agent
 * needs, Pod Security admits it only in its own namespace, its RBAC grants exactly the calls its
 * code makes, and the admission policy lets it write only its own node's SharedIpcNode, all proven
 * on the real API server.
 */
class AgentManifestsIT {
  static final String AGENT_NAMESPACE = "sharedipc-agent";
  static final String AGENT_USER = "system:serviceaccount:sharedipc-agent:sharedipc-agent";
  static final List<String> AGENT_GROUPS =
      List.of(
          "system:serviceaccounts",
          "system:serviceaccounts:sharedipc-agent",
          "system:authenticated");
  static final Set<String> CAPABILITIES =
      Set.of("SYS_ADMIN", "SYS_PTRACE", "IPC_OWNER", "DAC_OVERRIDE", "FOWNER", "CHOWN");

  private static RealApiServer api;
  private static List<HasMetadata> objects;

  @BeforeAll
  static void installForReal() throws IOException, InterruptedException {
    api = RealApiServer.shared();
    objects = Kustomized.render(api, "deploy");
    KubernetesClient client = api.client();
    // What the tests below judge against: namespaces, priority class, RBAC and admission policies,
    // applied for real.
    objects.stream()
        .filter(
            o ->
                Set.of(
                        "Namespace",
                        "PriorityClass",
                        "ServiceAccount",
                        "ClusterRole",
                        "ClusterRoleBinding",
                        "ValidatingAdmissionPolicy",
                        "ValidatingAdmissionPolicyBinding")
                    .contains(o.getKind()))
        .forEach(o -> client.resource(o).forceConflicts().serverSideApply());
  }

  private static DaemonSet agent() {
    return Kustomized.one(objects, DaemonSet.class, "sharedipc-agent");
  }

  @Test
  void agentListsItsCapabilitiesAndIsNotPrivileged() {
    PodSpec pod = agent().getSpec().getTemplate().getSpec();
    assertThat(pod.getContainers())
        .extracting(Container::getName)
        .containsExactly("agent", "csi", "node-driver-registrar", "liveness-probe");
    assertThat(pod.getInitContainers()).isNullOrEmpty();
    var sc = pod.getContainers().get(0).getSecurityContext();
    assertThat(sc.getPrivileged()).as("privileged").isFalse();
    assertThat(sc.getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(sc.getCapabilities().getAdd()).containsExactlyInAnyOrderElementsOf(CAPABILITIES);
    assertThat(sc.getReadOnlyRootFilesystem()).isTrue();
    assertThat(sc.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    assertThat(sc.getAppArmorProfile().getType())
        .as("default AppArmor profiles deny ptrace-reads of host processes")
        .isEqualTo("Unconfined");
    assertThat(pod.getHostPID()).isTrue();
    assertThat(pod.getHostIPC())
        .as("hostIPC: the agent enters the host's namespace through /proc/1/ns/ipc")
        .isNotEqualTo(Boolean.TRUE);
    assertThat(pod.getHostNetwork()).as("hostNetwork").isNotEqualTo(Boolean.TRUE);
    assertThat(pod.getPriorityClassName()).isEqualTo("sharedipc-agent");
    assertThat(pod.getContainers().get(0).getEnv())
        .anySatisfy(
            e -> {
              assertThat(e.getName()).isEqualTo("NODE_NAME");
              assertThat(e.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("spec.nodeName");
            });
  }

  @Test
  void agentMountsOnlyTheHostPathsItNeedsAndTheKubeletsReadOnly() {
    PodSpec pod = agent().getSpec().getTemplate().getSpec();
    Map<String, String> hostPaths =
        pod.getVolumes().stream()
            .filter(v -> v.getHostPath() != null)
            .collect(Collectors.toMap(Volume::getName, v -> v.getHostPath().getPath()));
    assertThat(hostPaths)
        .containsOnly(
            Map.entry("kubelet-pods", "/var/lib/kubelet/pods"),
            Map.entry("shared-root", "/dev/shm/sharedipc"),
            Map.entry("state", "/var/lib/sharedipc"),
            Map.entry("csi-plugin", "/var/lib/kubelet/plugins/shm.sharedipc.dev"),
            Map.entry("registration", "/var/lib/kubelet/plugins_registry"));
    Container c = pod.getContainers().get(0);
    Map<String, VolumeMount> mounts =
        c.getVolumeMounts().stream().collect(Collectors.toMap(VolumeMount::getName, m -> m));
    assertThat(mounts.get("kubelet-pods").getReadOnly()).isTrue();
    assertThat(mounts.get("kubelet-pods").getMountPropagation()).isEqualTo("HostToContainer");
    // each host path is mounted where the agent's own arguments say it looks
    assertThat(c.getArgs())
        .containsSubsequence("--kubelet-root", "/var/lib/kubelet")
        .containsSubsequence("--shared-root", mounts.get("shared-root").getMountPath())
        .containsSubsequence("--ledger", mounts.get("state").getMountPath() + "/ledger.json")
        .containsSubsequence("--csi-state-dir", mounts.get("csi-plugin").getMountPath() + "/state");
    assertThat(mounts.get("kubelet-pods").getMountPath()).isEqualTo("/var/lib/kubelet/pods");
    // the CSI instance tmpfs mounts, made after the agent started, inventoried and never written
    assertThat(mounts.get("csi-plugin").getReadOnly()).isTrue();
    assertThat(mounts.get("csi-plugin").getMountPropagation()).isEqualTo("HostToContainer");
    assertThat(c.getResources().getLimits()).containsKey("memory");
    assertThat(c.getResources().getRequests()).containsKeys("cpu", "memory");
    assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(c.getReadinessProbe()).isNotNull();
  }

  /**
   * The CSI plugin container: privileged only because Bidirectional propagation requires it, its
   * socket and state where the registrar tells the kubelet to look, its mounts propagated to the
   * host, and the CSIDriver object as the plugin serves it (ephemeral inline, pod info on mount,
   * fsGroup delegated).
   */
  @Test
  void csiPluginMountsPropagateToTheHostAndItsSocketIsTheOneRegistered() {
    PodSpec pod = agent().getSpec().getTemplate().getSpec();
    Map<String, Container> containers =
        pod.getContainers().stream().collect(Collectors.toMap(Container::getName, c -> c));
    Container csi = containers.get("csi");
    assertThat(csi.getImage()).isEqualTo(containers.get("agent").getImage());
    assertThat(csi.getSecurityContext().getPrivileged()).isTrue();
    assertThat(csi.getArgs())
        .containsSubsequence(
            "csi", "--endpoint", "unix:///var/lib/kubelet/plugins/shm.sharedipc.dev/csi.sock")
        .containsSubsequence("--state-dir", "/var/lib/kubelet/plugins/shm.sharedipc.dev/state");
    Map<String, VolumeMount> mounts =
        csi.getVolumeMounts().stream().collect(Collectors.toMap(VolumeMount::getName, m -> m));
    assertThat(mounts.get("csi-plugin").getMountPath())
        .isEqualTo("/var/lib/kubelet/plugins/shm.sharedipc.dev");
    assertThat(mounts.get("csi-plugin").getMountPropagation()).isEqualTo("Bidirectional");
    assertThat(mounts.get("kubelet-pods").getMountPropagation()).isEqualTo("Bidirectional");
    assertThat(csi.getEnv()).anySatisfy(e -> assertThat(e.getName()).isEqualTo("NODE_NAME"));
    assertThat(containers.get("node-driver-registrar").getArgs())
        .contains(
            "--kubelet-registration-path=/var/lib/kubelet/plugins/shm.sharedipc.dev/csi.sock");
    assertThat(containers.get("node-driver-registrar").getImage())
        .matches("registry.k8s.io/sig-storage/csi-node-driver-registrar:v\\d+\\.\\d+\\.\\d+");
    assertThat(containers.get("liveness-probe").getImage())
        .matches("registry.k8s.io/sig-storage/livenessprobe:v\\d+\\.\\d+\\.\\d+");
    assertThat(containers.get("node-driver-registrar").getSecurityContext().getPrivileged())
        .isNotEqualTo(Boolean.TRUE);

    io.fabric8.kubernetes.api.model.storage.CSIDriver driver =
        Kustomized.one(
            objects, io.fabric8.kubernetes.api.model.storage.CSIDriver.class, "shm.sharedipc.dev");
    assertThat(driver.getSpec().getVolumeLifecycleModes()).containsExactly("Ephemeral");
    assertThat(driver.getSpec().getPodInfoOnMount()).isTrue();
    assertThat(driver.getSpec().getAttachRequired()).isFalse();
    assertThat(driver.getSpec().getFsGroupPolicy()).isEqualTo("File");
    assertThat(api.client().resource(driver).dryRun().create()).isNotNull();
  }

  @Test
  void podSecurityAdmitsTheAgentOnlyInItsOwnNamespaceAndTheOperatorUnderRestricted() {
    KubernetesClient client = api.client();
    Pod agentPod = podOf("agent-probe", AGENT_NAMESPACE, agent().getSpec().getTemplate().getSpec());
    assertThat(client.resource(agentPod).dryRun().create()).isNotNull();

    Pod agentInOperatorNamespace =
        podOf("agent-probe", "sharedipc-system", agent().getSpec().getTemplate().getSpec());
    agentInOperatorNamespace.getSpec().setServiceAccountName(null);
    assertThatThrownBy(() -> client.resource(agentInOperatorNamespace).dryRun().create())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("violates PodSecurity \"restricted");

    PodSpec operator =
        Kustomized.one(objects, Deployment.class, "sharedipc-operator")
            .getSpec()
            .getTemplate()
            .getSpec();
    assertThat(
            client
                .resource(podOf("operator-probe", "sharedipc-system", operator))
                .dryRun()
                .create())
        .isNotNull();
  }

  private static Pod podOf(String name, String namespace, PodSpec spec) {
    return new PodBuilder()
        .withMetadata(new ObjectMetaBuilder().withName(name).withNamespace(namespace).build())
        .withSpec(new io.fabric8.kubernetes.api.model.PodSpecBuilder(spec).build())
        .build();
  }

  /**
   * Every (resource, verb) the agent's ClusterView and NodeReporter use, and nothing else of a list
   * of tempting neighbours.
   */
  @Test
  void agentRbacGrantsExactlyWhatItsCodeCalls() {
    Set<String> expected =
        Set.of(
            "/pods get",
            "/pods list",
            "/pods watch",
            "sharedipc.dev/sharedipcgroups list",
            "sharedipc.dev/sharedipcgroups watch",
            "sharedipc.dev/sharedipcnodes create",
            "sharedipc.dev/sharedipcnodes patch",
            // the watch on its own report (NodeReporter): a report deleted or changed by someone
            // else is written again
            "sharedipc.dev/sharedipcnodes list",
            "sharedipc.dev/sharedipcnodes watch",
            "sharedipc.dev/sharedipcnodes/status patch",
            "/events create",
            "/nodes get",
            "authentication.k8s.io/tokenreviews create",
            "authorization.k8s.io/subjectaccessreviews create");
    Set<String> probed = new TreeSet<>(expected);
    for (String verb :
        List.of(
            "get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")) {
      for (String resource :
          List.of(
              "/pods",
              "/pods/exec",
              "/pods/eviction",
              "/secrets",
              "/configmaps",
              "/nodes",
              "/events",
              "/serviceaccounts/token",
              "sharedipc.dev/sharedipcgroups",
              "sharedipc.dev/sharedipcgroups/status",
              "sharedipc.dev/sharedipcnodes",
              "sharedipc.dev/sharedipcnodes/status",
              "sharedipc.dev/sharedipcpolicies",
              "apps/daemonsets",
              "rbac.authorization.k8s.io/clusterroles",
              "authentication.k8s.io/tokenreviews",
              "authorization.k8s.io/subjectaccessreviews",
              "sharedipc.dev/sharedipcnodes/segments")) {
        probed.add(resource + " " + verb);
      }
    }
    Set<String> allowed = new TreeSet<>();
    for (String probe : probed) {
      String[] groupResource = probe.substring(0, probe.indexOf(' ')).split("/", 3);
      String group = groupResource[0];
      String resource = groupResource[1];
      String subresource = groupResource.length > 2 ? groupResource[2] : null;
      SubjectAccessReview review =
          new SubjectAccessReviewBuilder()
              .withNewSpec()
              .withUser(AGENT_USER)
              .withGroups(AGENT_GROUPS)
              .withResourceAttributes(
                  new ResourceAttributesBuilder()
                      .withGroup(group)
                      .withResource(resource)
                      .withSubresource(subresource)
                      .withVerb(probe.substring(probe.indexOf(' ') + 1))
                      .build())
              .endSpec()
              .build();
      if (api.client()
          .authorization()
          .v1()
          .subjectAccessReview()
          .create(review)
          .getStatus()
          .getAllowed()) {
        allowed.add(probe);
      }
    }
    assertThat(allowed).containsExactlyInAnyOrderElementsOf(expected);

    List<PolicyRule> rules =
        Kustomized.one(objects, ClusterRole.class, "sharedipc-agent").getRules();
    assertThat(rules).allSatisfy(r -> assertThat(r.getResourceNames()).isNullOrEmpty());
  }

  @Test
  void agentMayWriteOnlyItsOwnNodesSharedIpcNode() {
    String own = "node-a-" + Long.toString(System.nanoTime() % 1_000_000, 36);
    String other = "node-b-" + Long.toString(System.nanoTime() % 1_000_000, 36);
    KubernetesClient admin = api.client();
    admin.resource(node(other)).create();

    try (KubernetesClient agent = impersonatingAgent(own);
        KubernetesClient unbound = impersonatingAgent(null)) {
      // The policy takes effect once the API server has loaded and type-checked it.
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(250))
          .untilAsserted(
              () ->
                  assertThatThrownBy(() -> agent.resource(node(other + "-x")).dryRun().create())
                      .hasMessageContaining(
                          "the sharedipc agent on node "
                              + own
                              + " may write only SharedIpcNode "
                              + own));

      // its own node: create, then write status, as NodeReporter does
      assertThat(agent.resource(node(own)).create().getMetadata().getName()).isEqualTo(own);
      assertThat(admin.resources(SharedIpcNode.class).withName(own).get()).isNotNull();
      assertThat(agent.resource(statusPatch(own)).patchStatus().getStatus().getAgentVersion())
          .isEqualTo("test");

      // another node's: neither its status nor a new object
      assertThatThrownBy(() -> agent.resource(statusPatch(other)).patchStatus())
          .isInstanceOf(KubernetesClientException.class)
          .hasMessageContaining("may write only SharedIpcNode " + own + ", not " + other);
      SharedIpcNodeStatus untouched =
          admin.resources(SharedIpcNode.class).withName(other).get().getStatus();
      assertThat(untouched == null ? null : untouched.getAgentVersion()).isNull();

      // a token without the node claim writes nothing
      assertThatThrownBy(() -> unbound.resource(statusPatch(own)).patchStatus())
          .isInstanceOf(KubernetesClientException.class)
          .hasMessageContaining("node-bound ServiceAccount token");

      // and RBAC still holds: no deletes, not even of its own node
      assertThatThrownBy(() -> agent.resources(SharedIpcNode.class).withName(own).delete())
          .isInstanceOf(KubernetesClientException.class)
          .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(403));
    }
  }

  private static SharedIpcNode node(String name) {
    SharedIpcNode n = new SharedIpcNode();
    n.setMetadata(new ObjectMetaBuilder().withName(name).build());
    n.setSpec(new SharedIpcNodeSpec());
    return n;
  }

  private static SharedIpcNode statusPatch(String name) {
    SharedIpcNode n = new SharedIpcNode();
    n.setMetadata(new ObjectMetaBuilder().withName(name).build());
    SharedIpcNodeStatus s = new SharedIpcNodeStatus();
    s.setAgentVersion("test");
    n.setStatus(s);
    return n;
  }

  /**
   * A client that is the agent's ServiceAccount, on {@code nodeName} as a node-bound token says
   * (null: no claim).
   */
  private static KubernetesClient impersonatingAgent(String nodeName) {
    Config config = Config.fromKubeconfig(api.kubeConfigYaml());
    config.setImpersonateUsername(AGENT_USER);
    config.setImpersonateGroups(AGENT_GROUPS.toArray(String[]::new));
    if (nodeName != null) {
      // the extra's name must be percent-encoded in the Impersonate-Extra- header (it holds a '/')
      config.setImpersonateExtras(
          Map.of("authentication.kubernetes.io%2Fnode-name", new ArrayList<>(List.of(nodeName))));
    }
    return new KubernetesClientBuilder().withConfig(config).build();
  }
}
