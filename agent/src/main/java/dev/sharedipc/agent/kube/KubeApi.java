package dev.sharedipc.agent.kube;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.function.Supplier;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The agent's own client of the Kubernetes API: JSON over HTTP/1.1 ({@link Http1}), read as trees
 * ({@link Json}). The agent makes a handful of calls (list and watch its node's pods, the groups
 * and its own report; write its report and Events; review callers of {@code /segments}), and a
 * general client costs a node more than all of them: fabric8 with its models and their Jackson
 * deserializers held about 33 MiB of the agent's 130 (docs/agent.md, "Footprint"). The CSI driver
 * ({@code csi}), a process of its own, keeps fabric8.
 *
 * <p>Connects as kubectl does: in a pod with its service account (token re-read every minute, as
 * bound tokens rotate), else from a kubeconfig ({@link Kubeconfig}). Requests time out after 10 s;
 * nothing is retried here (the informers retry, the reporter writes again with the next pass).
 */
public final class KubeApi {
  static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final URI server;
  private final Http1 http;
  private final Supplier<String> token;
  private final String impersonate;
  private final java.util.List<String> impersonateGroups;

  KubeApi(URI server, SSLContext tls, Supplier<String> token) {
    this(server, tls, token, null, java.util.List.of());
  }

  /**
   * @param impersonate the user to act as (a kubeconfig's {@code as}), or null
   * @param impersonateGroups the groups to act as ({@code as-groups})
   */
  KubeApi(
      URI server,
      SSLContext tls,
      Supplier<String> token,
      String impersonate,
      java.util.List<String> impersonateGroups) {
    this.server = server;
    this.token = token;
    this.impersonate = impersonate;
    this.impersonateGroups = java.util.List.copyOf(impersonateGroups);
    this.http = new Http1(server, tls.getSocketFactory(), TIMEOUT);
  }

  /**
   * The API server a kubeconfig names, or with {@code kubeconfig} null: the pod's service account
   * when there is one, else {@code $KUBECONFIG}, else {@code ~/.kube/config}.
   */
  public static KubeApi connect(Path kubeconfig) throws IOException {
    if (kubeconfig == null) {
      if (Kubeconfig.inCluster()) {
        return Kubeconfig.serviceAccount();
      }
      String env = System.getenv("KUBECONFIG");
      kubeconfig =
          env != null && !env.isBlank()
              ? Path.of(env.split(java.io.File.pathSeparator)[0])
              : Path.of(System.getProperty("user.home"), ".kube", "config");
    }
    return Kubeconfig.read(Files.readString(kubeconfig));
  }

  /** A kubeconfig's current context, given as YAML. */
  public static KubeApi fromKubeconfig(String yaml) throws IOException {
    return Kubeconfig.read(yaml);
  }

  /** The object at {@code path}, or null when the API server answers 404. */
  public JsonNode get(String path) {
    try {
      return send("GET", path, null, null);
    } catch (ApiException e) {
      if (e.code() == 404) {
        return null;
      }
      throw e;
    }
  }

  /** POSTs {@code body} (a tree, a POJO or JSON text) to {@code path}: a create, or a review. */
  public JsonNode create(String path, Object body) {
    return send("POST", path, "application/json", bytes(body));
  }

  /** PATCHes {@code path}; {@code type} is the patch's media type ({@link #JSON_PATCH}...). */
  public JsonNode patch(String path, String type, Object body) {
    return send("PATCH", path, type, bytes(body));
  }

  public static final String JSON_PATCH = "application/json-patch+json";
  public static final String MERGE_PATCH = "application/merge-patch+json";

  /**
   * Opens a watch: the stream of events, one JSON object per line, until the server ends it or the
   * caller closes it. Only the answer's headers are bound by the request timeout.
   */
  InputStream stream(String path) {
    Http1.Answer answer = exchange("GET", path, null, null, true);
    if (answer.code() / 100 != 2) {
      try (InputStream body = answer.body()) {
        throw failure("GET", path, answer.code(), body.readAllBytes());
      } catch (IOException e) {
        throw new ApiException(answer.code(), what("GET", path) + ": " + e, e);
      }
    }
    return answer.body();
  }

  private JsonNode send(String method, String path, String contentType, byte[] body) {
    Http1.Answer answer = exchange(method, path, contentType, body, false);
    byte[] content;
    try (InputStream in = answer.body()) {
      content = in.readAllBytes();
    } catch (IOException e) {
      throw new ApiException(0, what(method, path) + ": " + e, e);
    }
    if (answer.code() / 100 != 2) {
      throw failure(method, path, answer.code(), content);
    }
    try {
      return Json.parse(content);
    } catch (IOException e) {
      throw new ApiException(answer.code(), what(method, path) + ": unreadable answer: " + e, e);
    }
  }

  /** Sends the request; no answer at all (refused, timed out, cut off) is code 0. */
  private Http1.Answer exchange(
      String method, String path, String contentType, byte[] body, boolean stream) {
    java.util.List<String> headers = new java.util.ArrayList<>(12);
    headers.add("Accept");
    headers.add("application/json");
    headers.add("User-Agent");
    headers.add("sharedipc-agent");
    if (contentType != null) {
      headers.add("Content-Type");
      headers.add(contentType);
    }
    String bearer = token == null ? null : token.get();
    if (bearer != null) {
      headers.add("Authorization");
      headers.add("Bearer " + bearer);
    }
    if (impersonate != null) {
      headers.add("Impersonate-User");
      headers.add(impersonate);
      for (String group : impersonateGroups) {
        headers.add("Impersonate-Group");
        headers.add(group);
      }
    }
    URI target = server.resolve(path);
    String query = target.getRawQuery();
    try {
      return http.call(
          method, target.getRawPath() + (query == null ? "" : "?" + query), headers, body, stream);
    } catch (IOException e) {
      throw new ApiException(0, what(method, path) + ": " + e, e);
    }
  }

  /** "METHOD /path", as errors name a call (without the query). */
  private String what(String method, String path) {
    return method + " " + server.resolve(path).getRawPath();
  }

  /** The API server's own message (a Status object) when it sent one. */
  private ApiException failure(String method, String path, int code, byte[] body) {
    String message = new String(body, StandardCharsets.UTF_8);
    try {
      JsonNode status = Json.parse(body);
      if (status != null && status.hasNonNull("message")) {
        message = status.get("message").asText();
      }
    } catch (IOException e) {
      // not a Status: the body as it came
    }
    return new ApiException(code, what(method, path) + ": " + code + " " + message, null);
  }

  /** A field's text, or null when it is absent or JSON null. */
  public static String text(JsonNode node, String field) {
    JsonNode v = node.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }

  private static byte[] bytes(Object body) {
    return body instanceof String s ? s.getBytes(StandardCharsets.UTF_8) : Json.bytes(body);
  }

  /**
   * A TLS context that trusts {@code caPem} (or, when null, the JDK's public CAs) and presents the
   * client certificate, if any.
   */
  static SSLContext tls(String caPem, String certPem, String keyPem) {
    try {
      KeyStore trust = null; // without a cluster CA: the JDK's public CAs, as kubectl's system pool
      if (caPem != null) {
        trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        int i = 0;
        for (var cert : Pem.certificates(caPem)) {
          trust.setCertificateEntry("ca-" + i++, cert);
        }
      }
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      KeyManagerFactory kmf = null;
      if (certPem != null && keyPem != null) {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        char[] none = new char[0];
        keys.setKeyEntry(
            "client",
            Pem.privateKey(keyPem),
            none,
            Pem.certificates(certPem).toArray(new java.security.cert.Certificate[0]));
        kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, none);
      }
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException("cannot set up TLS to the API server: " + e, e);
    }
  }
}
