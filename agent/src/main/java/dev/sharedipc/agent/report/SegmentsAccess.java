package dev.sharedipc.agent.report;

import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.authentication.UserInfo;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;

/**
 * Who may read {@code /segments} (every segment of the node, with its pod and group): a caller on
 * loopback (inside the agent's pod: {@code kubectl exec}, or {@code kubectl port-forward}, which
 * the API server already authorized), or a caller whose bearer token the API server authenticates
 * (TokenReview) and authorizes (SubjectAccessReview) for {@code get} on the subresource {@code
 * sharedipcnodes/segments} of group {@code sharedipc.dev}, named after this node, as a ClusterRole
 * grants it: {@code {apiGroups: [sharedipc.dev], resources: [sharedipcnodes/segments], verbs:
 * [get]}}. The subresource is not served by the API server; it only names the right, the way
 * kubelets name {@code nodes/proxy}. {@code /metrics}, {@code /healthz} and {@code /readyz} stay
 * open.
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

  private final KubernetesClient client;
  private final String nodeName;

  /**
   * @param client the agent's client for the reviews, or null without an API server (then only
   *     loopback is let in)
   * @param nodeName this node, the name the SubjectAccessReview asks about
   */
  public SegmentsAccess(KubernetesClient client, String nodeName) {
    this.client = client;
    this.nodeName = nodeName;
  }

  /**
   * @param remote the caller's address
   * @param authorization the request's {@code Authorization} header, or null
   */
  public Decision decide(InetAddress remote, String authorization) {
    if (remote != null && remote.isLoopbackAddress()) {
      return new Decision(200, "loopback");
    }
    String token = bearer(authorization);
    if (token == null) {
      return new Decision(
          401,
          "/segments needs a bearer token (Authorization: Bearer <token>) of a user allowed to "
              + rightText()
              + ", or a call from inside the agent's pod (kubectl exec or port-forward)");
    }
    if (client == null) {
      return new Decision(
          403,
          "the agent runs without an API server and cannot check tokens: call /segments on loopback");
    }
    try {
      TokenReview review =
          client
              .authentication()
              .v1()
              .tokenReviews()
              .create(new TokenReviewBuilder().withNewSpec().withToken(token).endSpec().build());
      if (review.getStatus() == null
          || !Boolean.TRUE.equals(review.getStatus().getAuthenticated())) {
        String error = review.getStatus() == null ? null : review.getStatus().getError();
        return new Decision(
            401,
            "the API server did not authenticate the bearer token"
                + (error == null ? "" : ": " + error));
      }
      UserInfo user = review.getStatus().getUser();
      SubjectAccessReview access =
          client
              .authorization()
              .v1()
              .subjectAccessReview()
              .create(
                  new SubjectAccessReviewBuilder()
                      .withNewSpec()
                      .withUser(user.getUsername())
                      .withUid(user.getUid())
                      .withGroups(user.getGroups())
                      .withExtra(extra(user.getExtra()))
                      .withNewResourceAttributes()
                      .withGroup(GROUP)
                      .withResource(RESOURCE)
                      .withSubresource(SUBRESOURCE)
                      .withVerb(VERB)
                      .withName(nodeName)
                      .endResourceAttributes()
                      .endSpec()
                      .build());
      if (access.getStatus() == null || !Boolean.TRUE.equals(access.getStatus().getAllowed())) {
        return new Decision(
            403,
            "user "
                + user.getUsername()
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
      return new Decision(200, "authorized " + user.getUsername());
    } catch (KubernetesClientException e) {
      return new Decision(
          503,
          "cannot check the caller with the API server (TokenReview/SubjectAccessReview): "
              + e.getMessage()
              + "; try again, or call /segments on loopback");
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

  private static Map<String, List<String>> extra(Map<String, List<String>> extra) {
    return extra == null ? Map.of() : extra;
  }
}
