package dev.sharedipc.agent.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.agent.testing.SegmentsReaders;
import dev.sharedipc.api.testing.RealApiServer;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Collections;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Who may read {@code /segments}, on a real API server: the agent's endpoint listens on every
 * address and is called over the machine's non-loopback address and over loopback, and either way
 * only a bearer token the API server authenticates (TokenReview) and authorizes for {@code get
 * sharedipcnodes/segments} (SubjectAccessReview, the ClusterRole sharedipc-segments-reader of
 * deploy/agent-rbac.yaml) lets the caller in: a sidecar proxy or a forwarder in the agent's network
 * namespace would make any caller loopback. The agent's side runs as its ServiceAccount under
 * deploy/agent-rbac.yaml (impersonated), so the reviews prove that ClusterRole suffices.
 */
class SegmentsAccessIT {
  static final String AGENT_USER = "system:serviceaccount:sharedipc-agent:sharedipc-agent";
  static final String BODY = "{\"segments\":[]}\n";
  RealApiServer api;

  /** The agent's own client of the test's API server, as the agent would connect. */
  dev.sharedipc.agent.kube.KubeApi kube() {
    return dev.sharedipc.agent.testing.AgentClients.of(api);
  }

  dev.sharedipc.agent.kube.KubeApi agent;
  HttpEndpoint endpoint;
  String namespace;
  String nodeName;
  String binding;
  final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void agentEndpointAndTwoServiceAccounts() throws Exception {
    api = RealApiServer.shared();
    SegmentsReaders.installRbac(api);
    namespace = api.newNamespace("segments");
    nodeName = "node-" + namespace;
    SegmentsReaders.serviceAccount(api, namespace, "reader", true);
    SegmentsReaders.serviceAccount(api, namespace, "stranger", false);
    binding = SegmentsReaders.binding(namespace);

    agent =
        dev.sharedipc.agent.testing.AgentClients.as(
            api,
            AGENT_USER,
            "system:serviceaccounts",
            "system:serviceaccounts:sharedipc-agent",
            "system:authenticated");
    endpoint =
        new HttpEndpoint(
            new InetSocketAddress(0),
            new Metrics(),
            Optional::empty,
            Optional::empty,
            () -> BODY,
            new SegmentsAccess(agent, nodeName));
  }

  @AfterEach
  void tearDown() {
    if (endpoint != null) {
      endpoint.close();
    }
    if (binding != null) {
      api.client().rbac().clusterRoleBindings().withName(binding).delete();
    }
  }

  @Test
  void onlyAnAuthorizedTokenReadsSegmentsOverTheNetworkAndOnLoopback() throws Exception {
    String remote = nonLoopbackAddress();

    HttpResponse<String> none = get(remote, "/segments", null);
    assertThat(none.statusCode()).as("no token: %s", none.body()).isEqualTo(401);
    assertThat(none.headers().firstValue("WWW-Authenticate")).contains("Bearer");
    assertThat(none.body()).contains("needs a bearer token").doesNotContain("segments\":");

    HttpResponse<String> forged = get(remote, "/segments", "not-a-token");
    assertThat(forged.statusCode())
        .as("a token the API server does not know: %s", forged.body())
        .isEqualTo(401);

    HttpResponse<String> stranger = get(remote, "/segments", token("stranger"));
    assertThat(stranger.statusCode())
        .as("a token without the right: %s", stranger.body())
        .isEqualTo(403);
    assertThat(stranger.body())
        .contains(
            "system:serviceaccount:" + namespace + ":stranger may not get sharedipcnodes/segments")
        .doesNotContain("segments\":");

    HttpResponse<String> reader = get(remote, "/segments", token("reader"));
    assertThat(reader.statusCode())
        .as("a token with get sharedipcnodes/segments: %s", reader.body())
        .isEqualTo(200);
    assertThat(reader.body()).isEqualTo(BODY);

    HttpResponse<String> loopback = get("127.0.0.1", "/segments", null);
    assertThat(loopback.statusCode())
        .as("loopback, as through a proxy in the pod, no token: %s", loopback.body())
        .isEqualTo(401);
    assertThat(loopback.body()).doesNotContain("segments\":");
    HttpResponse<String> loopbackReader = get("127.0.0.1", "/segments", token("reader"));
    assertThat(loopbackReader.statusCode()).isEqualTo(200);
    assertThat(loopbackReader.body()).isEqualTo(BODY);

    assertThat(get(remote, "/metrics", null).statusCode()).as("/metrics stays open").isEqualTo(200);
    assertThat(get(remote, "/healthz", null).statusCode()).as("/healthz stays open").isEqualTo(200);
  }

  private String token(String serviceAccount) {
    return SegmentsReaders.token(api, namespace, serviceAccount);
  }

  private HttpResponse<String> get(String host, String path, String token) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create("http://" + host + ":" + endpoint.port() + path));
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** An address of this machine other than loopback, so that the endpoint sees a remote caller. */
  private static String nonLoopbackAddress() throws Exception {
    for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (!nic.isUp() || nic.isLoopback()) {
        continue;
      }
      for (InetAddress a : Collections.list(nic.getInetAddresses())) {
        if (a instanceof Inet4Address && !a.isLoopbackAddress()) {
          return a.getHostAddress();
        }
      }
    }
    Assumptions.abort("this machine has no non-loopback IPv4 address to call the endpoint from");
    return null;
  }
}
