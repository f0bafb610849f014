package dev.sharedipc.agent.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sharedipc.agent.kube.ApiException;
import dev.sharedipc.agent.kube.Json;
import dev.sharedipc.agent.kube.KubeApi;

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

  /** The HTTP status to answer with (200 lets the caller in) and why, for the body of a refusal. */
  public record Decision(int status, String reason) {
    public boolean allowed() {
      return status == 200;
    }
  }

  private final KubeApi client;
  private final String nodeName;

  /**
   * @param client the agent's client for the reviews, or null without an API server (then no one is
   *     let in)
   * @param nodeName this node, the name the SubjectAccessReview asks about
   */
  public SegmentsAccess(KubeApi client, String nodeName) {
    this.client = client;
    this.nodeName = nodeName;
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
