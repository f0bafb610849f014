package dev.sharedipc.agent.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.agent.kube.KubeApi;
import dev.sharedipc.agent.testing.AgentClients;
import dev.sharedipc.agent.testing.SegmentsReaders;
import dev.sharedipc.agent.testing.TcpGate;
import dev.sharedipc.api.testing.RealApiServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code /segments} asks the API server about each caller (TokenReview, SubjectAccessReview), and
 * the API server may be slow, away, or flooded with garbage tokens by a caller: the agent's client
 * goes to the real API server through a TCP gate that can blackhole it (accept, never answer) and
 * counts the calls that reach it (the agent's client opens one connection per call). Whatever
 * /segments waits for, the probes answer within 1 s; a review is reused while fresh, and failed
 * tokens are reviewed at most a few at a time.
 */
class HttpEndpointIT {
  RealApiServer api;
  TcpGate gate;
  HttpEndpoint endpoint;
  String namespace;

  /** The clock of the reviews' cache and of the failure budget: still unless a test moves it. */
  final AtomicLong nanos = new AtomicLong();

  final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void endpointWhoseReviewsGoThroughAGate() throws Exception {
    api = RealApiServer.shared();
    gate = AgentClients.gateInFrontOf(api);
    KubeApi agent = KubeApi.fromKubeconfig(AgentClients.kubeconfigThrough(api, gate));
    endpoint =
        new HttpEndpoint(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            new Metrics(),
            Optional::empty,
            Optional::empty,
            () -> "{\"segments\":[]}\n",
            new SegmentsAccess(agent, "node-http", nanos::get));
  }

  @AfterEach
  void tearDown() throws Exception {
    if (endpoint != null) {
      endpoint.close();
    }
    if (gate != null) {
      gate.close();
    }
    if (namespace != null) {
      api.client()
          .rbac()
          .clusterRoleBindings()
          .withName(SegmentsReaders.binding(namespace))
          .delete();
    }
  }

  @Test
  void probesAnswerWithinASecondWhileSegmentsCallersWaitOnABlackholedApiServer() throws Exception {
    gate.blackhole();
    List<CompletableFuture<HttpResponse<String>>> waiting = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      waiting.add(segmentsAsync("garbage-" + i));
    }

    for (int i = 0; i < 5; i++) {
      HttpResponse<String> probe = get("/healthz", null, Duration.ofSeconds(1));
      assertThat(probe.statusCode()).isEqualTo(200);
      assertThat(get("/readyz", null, Duration.ofSeconds(1)).statusCode()).isEqualTo(200);
    }

    // each waiting caller is answered in the end: 503, the API server could not be asked, or
    // busy (bounded concurrency: the agent asks about a few callers at a time, not ten)
    List<HttpResponse<String>> answers = new ArrayList<>();
    for (CompletableFuture<HttpResponse<String>> w : waiting) {
      answers.add(w.get());
    }
    assertThat(answers).allSatisfy(r -> assertThat(r.statusCode()).isEqualTo(503));
    assertThat(answers)
        .filteredOn(r -> r.body().contains("busy"))
        .as("callers beyond what the agent reviews at once")
        .hasSizeGreaterThanOrEqualTo(10 - HttpEndpoint.SEGMENTS_IN_FLIGHT);
  }

  @Test
  void aTokensReviewIsReusedWhileFresh() throws Exception {
    gate.open();
    String token = reader();
    int before = gate.accepted();

    for (int i = 0; i < 5; i++) {
      assertThat(get("/segments", token, Duration.ofSeconds(30)).statusCode()).isEqualTo(200);
    }

    assertThat(gate.accepted() - before)
        .as("API calls for five reads: one TokenReview and one SubjectAccessReview")
        .isEqualTo(2);
  }

  @Test
  void aStaleReviewIsAskedAgainAndTheFailureBudgetRefillsWithTime() throws Exception {
    gate.open();
    String token = reader();
    assertThat(get("/segments", token, Duration.ofSeconds(30)).statusCode()).isEqualTo(200);
    for (int i = 0; i < SegmentsAccess.FAILED_TOKENS_BURST; i++) {
      assertThat(get("/segments", "garbage-" + i, Duration.ofSeconds(30)).statusCode())
          .isEqualTo(401);
    }
    assertThat(get("/segments", "garbage-next", Duration.ofSeconds(30)).statusCode())
        .isEqualTo(429);
    int before = gate.accepted();

    nanos.addAndGet(SegmentsAccess.REVIEW_TTL.plus(SegmentsAccess.FAILED_TOKEN_REFILL).toNanos());

    assertThat(get("/segments", token, Duration.ofSeconds(30)).statusCode()).isEqualTo(200);
    assertThat(gate.accepted() - before).as("the reader reviewed again").isEqualTo(2);
    assertThat(get("/segments", "garbage-next", Duration.ofSeconds(30)).statusCode())
        .as("one more refused token may be reviewed")
        .isEqualTo(401);
  }

  @Test
  void garbageTokensAreReviewedAFewAtATimeThenRefusedWithoutAskingTheApiServer() throws Exception {
    gate.open();
    String token = reader();
    assertThat(get("/segments", token, Duration.ofSeconds(30)).statusCode()).isEqualTo(200);
    int before = gate.accepted();

    List<Integer> statuses = new ArrayList<>();
    HttpResponse<String> last = null;
    for (int i = 0; i < 40; i++) {
      last = get("/segments", "garbage-" + i, Duration.ofSeconds(30));
      statuses.add(last.statusCode());
    }

    assertThat(gate.accepted() - before)
        .as("TokenReviews of 40 garbage tokens")
        .isLessThanOrEqualTo(SegmentsAccess.FAILED_TOKENS_BURST);
    assertThat(statuses).containsOnly(401, 429);
    assertThat(last.statusCode()).isEqualTo(429);
    assertThat(last.headers().firstValue("Retry-After")).isPresent();
    assertThat(get("/segments", token, Duration.ofSeconds(30)).statusCode())
        .as("a token reviewed before the flood still reads")
        .isEqualTo(200);
  }

  private String reader() {
    SegmentsReaders.installRbac(api);
    namespace = api.newNamespace("http");
    SegmentsReaders.serviceAccount(api, namespace, "reader", true);
    return SegmentsReaders.token(api, namespace, "reader");
  }

  private CompletableFuture<HttpResponse<String>> segmentsAsync(String token) {
    return http.sendAsync(request("/segments", token, Duration.ofSeconds(60)), body());
  }

  private HttpResponse<String> get(String path, String token, Duration timeout) throws Exception {
    return http.send(request(path, token, timeout), body());
  }

  private HttpRequest request(String path, String token, Duration timeout) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoint.port() + path))
            .timeout(timeout);
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return b.build();
  }

  private static HttpResponse.BodyHandler<String> body() {
    return HttpResponse.BodyHandlers.ofString();
  }
}
