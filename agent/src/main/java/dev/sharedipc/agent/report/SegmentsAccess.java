package dev.sharedipc.agent.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sharedipc.agent.kube.ApiException;
import dev.sharedipc.agent.kube.Json;
import dev.sharedipc.agent.kube.KubeApi;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Who may read {@code /segments} (every segment of the node, with its pod and group): only a caller
 * whose bearer token the API server authenticates (TokenReview) and authorizes
 * (SubjectAccessReview) for {@code get} on the subresource {@code sharedipcnodes/segments} of group
 * {@code sharedipc.dev}, named after this node, as a ClusterRole grants it: {@code {apiGroups:
 * [sharedipc.dev], resources: [sharedipcnodes/segments], verbs: [get]}}. The subresource is not
 * served by the API server; it only names the right, the way kubelets name {@code nodes/proxy}.
 * Where the call comes from counts for nothing, loopback included: a sidecar proxy or a port
 * forwarder in the agent's network namespace makes every caller loopback. Inside the agent's pod,
 * {@code sharedipc-agent scan} gives the same view without HTTP. {@code /metrics}, {@code /healthz}
 * and {@code /readyz} stay open.
 */
public final class SegmentsAccess {
  public static final String GROUP = "sharedipc.dev";
  public static final String RESOURCE = "sharedipcnodes";
  public static final String SUBRESOURCE = "segments";
  public static final String VERB = "get";

  static final Duration REVIEW_TTL = Duration.ofSeconds(10);
  static final int CACHED_REVIEWS = 256;
  static final int FAILED_TOKENS_BURST = 5;
  static final Duration FAILED_TOKEN_REFILL = Duration.ofSeconds(10);

  /** The HTTP status to answer with (200 lets the caller in) and why, for the body of a refusal. */
  public record Decision(int status, String reason) {
    public boolean allowed() {
      return status == 200;
    }
  }

  private final KubeApi client;
  private final String nodeName;
  private final LongSupplier nanoTime;

  private record Reviewed(Decision decision, long until) {}

  /** Answers by token hash, least recently used first. */
  private final Map<String, Reviewed> reviewed =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Reviewed> eldest) {
          return size() > CACHED_REVIEWS;
        }
      };

  /** How many refused tokens may still be reviewed now, and when that was last counted. */
  private double failureBudget = FAILED_TOKENS_BURST;

  private long budgetAt;

  /**
   * @param client the agent's client for the reviews, or null without an API server (then no one is
   *     let in)
   * @param nodeName this node, the name the SubjectAccessReview asks about
   */
  public SegmentsAccess(KubeApi client, String nodeName) {
    this(client, nodeName, System::nanoTime);
  }

  /** With the clock the cache and the failure budget count by (tests). */
  SegmentsAccess(KubeApi client, String nodeName, LongSupplier nanoTime) {
    this.client = client;
    this.nodeName = nodeName;
    this.nanoTime = nanoTime;
    this.budgetAt = nanoTime.getAsLong();
  }

  /**
   * @param authorization the request's {@code Authorization} header, or null
   */
  public Decision decide(String authorization) {
    String token = bearer(authorization);
    if (token == null) {
      return new Decision(
          401,
          "/segments needs a bearer token (Authorization: Bearer <token>) of a user allowed to "
              + rightText()
              + "; inside the agent's pod, sharedipc-agent scan --json lists the same");
    }
    if (client == null) {
      return new Decision(
          403,
          "the agent runs without an API server and cannot check tokens: run sharedipc-agent scan --json"
              + " on the node instead");
    }
    String key = sha256(token);
    Decision known = reviewed(key);
    if (known != null) {
      return known;
    }
    if (!mayReviewAnother()) {
      return new Decision(
          429,
          "too many tokens the API server refused lately: try again in "
              + FAILED_TOKEN_REFILL.toSeconds()
              + "s");
    }
    Decision d = review(token);
    if (d.status() != 503) {
      remember(key, d);
    }
    return d;
  }

  /** The TokenReview and SubjectAccessReview of one token. */
  private Decision review(String token) {
    try {
      ObjectNode tokenReview =
          Json.object().put("apiVersion", "authentication.k8s.io/v1").put("kind", "TokenReview");
      tokenReview.putObject("spec").put("token", token);
      JsonNode review =
          client.create("/apis/authentication.k8s.io/v1/tokenreviews", tokenReview).path("status");
      if (!review.path("authenticated").asBoolean(false)) {
        String error = review.hasNonNull("error") ? review.get("error").asText() : null;
        return new Decision(
            401,
            "the API server did not authenticate the bearer token"
                + (error == null ? "" : ": " + error));
      }
      JsonNode user = review.path("user");
      String username = user.path("username").asText();
      ObjectNode accessReview =
          Json.object()
              .put("apiVersion", "authorization.k8s.io/v1")
              .put("kind", "SubjectAccessReview");
      ObjectNode spec = accessReview.putObject("spec");
      spec.put("user", username);
      if (user.hasNonNull("uid")) {
        spec.put("uid", user.get("uid").asText());
      }
      spec.set("groups", user.path("groups").isArray() ? user.get("groups") : Json.array());
      if (user.path("extra").isObject()) {
        spec.set("extra", user.get("extra"));
      }
      spec.putObject("resourceAttributes")
          .put("group", GROUP)
          .put("resource", RESOURCE)
          .put("subresource", SUBRESOURCE)
          .put("verb", VERB)
          .put("name", nodeName);
      boolean allowed =
          client
              .create("/apis/authorization.k8s.io/v1/subjectaccessreviews", accessReview)
              .path("status")
              .path("allowed")
              .asBoolean(false);
      if (!allowed) {
        return new Decision(
            403,
            "user "
                + username
                + " may not "
                + rightText()
                + " (grant it with a ClusterRole rule {apiGroups: ["
                + GROUP
                + "], resources: ["
                + RESOURCE
                + "/"
                + SUBRESOURCE
                + "], verbs: ["
                + VERB
                + "]})");
      }
      return new Decision(200, "authorized " + username);
    } catch (ApiException e) {
      return new Decision(
          503,
          "cannot check the caller with the API server (TokenReview/SubjectAccessReview): "
              + e.getMessage()
              + "; try again, or run sharedipc-agent scan --json on the node");
    }
  }

  private synchronized Decision reviewed(String key) {
    Reviewed r = reviewed.get(key);
    if (r == null || nanoTime.getAsLong() - r.until() > 0) {
      reviewed.remove(key);
      return null;
    }
    return r.decision();
  }

  private synchronized void remember(String key, Decision d) {
    reviewed.put(key, new Reviewed(d, nanoTime.getAsLong() + REVIEW_TTL.toNanos()));
    if (!d.allowed()) {
      failureBudget -= 1;
    }
  }

  /** Whether the failure budget, refilled by the time passed, lets one more token be reviewed. */
  private synchronized boolean mayReviewAnother() {
    long now = nanoTime.getAsLong();
    failureBudget =
        Math.min(
            FAILED_TOKENS_BURST,
            failureBudget + (double) (now - budgetAt) / FAILED_TOKEN_REFILL.toNanos());
    budgetAt = now;
    return failureBudget >= 1;
  }

  private static String sha256(String token) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  private String rightText() {
    return VERB + " " + RESOURCE + "/" + SUBRESOURCE + " of " + GROUP + " (node " + nodeName + ")";
  }

  /** The token of {@code Bearer <token>}, or null. */
  static String bearer(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    String token = authorization.substring(7).trim();
    return token.isEmpty() ? null : token;
  }
}
