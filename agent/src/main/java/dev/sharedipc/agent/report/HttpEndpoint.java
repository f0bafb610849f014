package dev.sharedipc.agent.report;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The daemon's HTTP endpoint on the JDK's built-in server (one small thread, no extra library):
 * {@code /metrics} (Prometheus text), {@code /healthz} (liveness: 200 while scans keep succeeding
 * and no informer has stopped for good; an API server that is merely away does not fail it, since a
 * restart would not bring it back), {@code /readyz} (readiness: healthy, and both informers have
 * listed once), {@code /segments} (the last scan, every segment, as the CLI's JSON, only to callers
 * {@link SegmentsAccess} lets in: a bearer token the API server authorizes, wherever the call comes
 * from). A 503 says why in its body; a 401 or 403 from {@code /segments} says what the caller
 * lacks.
 */
public final class HttpEndpoint implements AutoCloseable {
  private final HttpServer server;

  /**
   * @param unhealthy why the agent should be restarted, or empty
   * @param notReady why the agent cannot yet judge by cluster facts (besides being unhealthy), or
   *     empty
   */
  public HttpEndpoint(
      InetSocketAddress address,
      Metrics metrics,
      Supplier<Optional<String>> unhealthy,
      Supplier<Optional<String>> notReady,
      Supplier<String> segmentsJson,
      SegmentsAccess segmentsAccess)
      throws IOException {
    server = HttpServer.create(address, 16);
    server.setExecutor(
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(null, r, "http", 256 * 1024);
              t.setDaemon(true);
              return t;
            }));
    server.createContext("/metrics", ex -> send(ex, 200, Metrics.contentType(), metrics.scrape()));
    server.createContext("/healthz", ex -> probe(ex, unhealthy.get()));
    server.createContext("/readyz", ex -> probe(ex, unhealthy.get().or(notReady)));
    server.createContext(
        "/segments",
        ex -> {
          SegmentsAccess.Decision d =
              segmentsAccess.decide(ex.getRequestHeaders().getFirst("Authorization"));
          if (d.allowed()) {
            send(ex, 200, "application/json", segmentsJson.get());
          } else {
            if (d.status() == 401) {
              ex.getResponseHeaders().set("WWW-Authenticate", "Bearer");
            }
            send(ex, d.status(), "text/plain; charset=utf-8", d.reason() + "\n");
          }
        });
    server.createContext(
        "/",
        ex ->
            send(
                ex,
                404,
                "text/plain; charset=utf-8",
                "try /metrics, /healthz, /readyz or /segments\n"));
    server.start();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private static void probe(HttpExchange ex, Optional<String> problem) throws IOException {
    send(
        ex,
        problem.isEmpty() ? 200 : 503,
        "text/plain; charset=utf-8",
        problem.map(p -> p + "\n").orElse("ok\n"));
  }

  private static void send(HttpExchange ex, int code, String type, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
