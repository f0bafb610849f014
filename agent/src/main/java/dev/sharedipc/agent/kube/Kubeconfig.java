package dev.sharedipc.agent.kube;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.function.Supplier;

/**
 * Where {@link KubeApi} connects and as whom: a kubeconfig's current context (server, its CA, a
 * client certificate or a token, and a user to impersonate: {@code as}, {@code as-groups}), or the
 * pod's service account. Credential plugins ({@code exec}, {@code auth-provider}) are not run: the
 * agent runs in its pod with its service account, and a kubeconfig is for running it by hand.
 */
final class Kubeconfig {
  static final Path SERVICE_ACCOUNT = Path.of("/var/run/secrets/kubernetes.io/serviceaccount");

  /** Bound service-account tokens rotate (the kubelet refreshes the file); re-read this often. */
  static final Duration TOKEN_REREAD = Duration.ofMinutes(1);

  private Kubeconfig() {}

  static boolean inCluster() {
    return System.getenv("KUBERNETES_SERVICE_HOST") != null
        && Files.isReadable(SERVICE_ACCOUNT.resolve("token"));
  }

  static KubeApi serviceAccount() throws IOException {
    String host = System.getenv("KUBERNETES_SERVICE_HOST");
    String port = System.getenv().getOrDefault("KUBERNETES_SERVICE_PORT", "443");
    URI server =
        URI.create("https://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port);
    String ca = Files.readString(SERVICE_ACCOUNT.resolve("ca.crt"));
    return new KubeApi(
        server, KubeApi.tls(ca, null, null), tokenFile(SERVICE_ACCOUNT.resolve("token")));
  }

  static KubeApi read(String yaml) throws IOException {
    JsonNode config;
    try (var parser = new YAMLFactory().createParser(yaml)) {
      config = Json.read(parser);
    }
    String current = KubeApi.text(config, "current-context");
    if (current == null) {
      throw new IOException("the kubeconfig has no current-context");
    }
    JsonNode context = named(config, "contexts", current, "context");
    JsonNode cluster = named(config, "clusters", KubeApi.text(context, "cluster"), "cluster");
    JsonNode user = named(config, "users", KubeApi.text(context, "user"), "user");
    String server = KubeApi.text(cluster, "server");
    if (server == null) {
      throw new IOException(
          "cluster " + KubeApi.text(context, "cluster") + " of the kubeconfig has no server");
    }
    if (user.has("exec") || user.has("auth-provider")) {
      throw new IOException(
          "user "
              + KubeApi.text(context, "user")
              + " of the kubeconfig authenticates with a plugin (exec/auth-provider), which the agent does not run: "
              + "use a kubeconfig with a client certificate or a token");
    }
    String ca = pem(cluster, "certificate-authority");
    String token = KubeApi.text(user, "token");
    Supplier<String> bearer =
        token != null
            ? () -> token
            : KubeApi.text(user, "tokenFile") != null
                ? tokenFile(Path.of(KubeApi.text(user, "tokenFile")))
                : null;
    java.util.List<String> asGroups = new java.util.ArrayList<>();
    user.path("as-groups").forEach(g -> asGroups.add(g.asText()));
    return new KubeApi(
        URI.create(server.endsWith("/") ? server : server + "/"),
        KubeApi.tls(ca, pem(user, "client-certificate"), pem(user, "client-key")),
        bearer,
        KubeApi.text(user, "as"),
        asGroups);
  }

  /** {@code <field>-data} (base64 PEM) or {@code <field>} (a file of PEM), else null. */
  private static String pem(JsonNode node, String field) throws IOException {
    String data = KubeApi.text(node, field + "-data");
    if (data != null) {
      return new String(Base64.getMimeDecoder().decode(data), StandardCharsets.US_ASCII);
    }
    String file = KubeApi.text(node, field);
    return file == null ? null : Files.readString(Path.of(file));
  }

  private static JsonNode named(JsonNode config, String list, String name, String field)
      throws IOException {
    for (JsonNode entry : config.path(list)) {
      if (name != null && name.equals(KubeApi.text(entry, "name"))) {
        return entry.path(field);
      }
    }
    throw new IOException("the kubeconfig has no " + list + " entry named " + name);
  }

  /** A token read from its file, read again once {@link #TOKEN_REREAD} has passed. */
  private static Supplier<String> tokenFile(Path file) {
    return new Supplier<>() {
      private String token;
      private long readAt;

      @Override
      public synchronized String get() {
        long now = System.nanoTime();
        if (token == null || now - readAt > TOKEN_REREAD.toNanos()) {
          try {
            token = Files.readString(file).trim();
            readAt = now;
          } catch (IOException e) {
            if (token == null) {
              throw new ApiException(0, "cannot read the token " + file + ": " + e, e);
            }
          }
        }
        return token;
      }
    };
  }
}
