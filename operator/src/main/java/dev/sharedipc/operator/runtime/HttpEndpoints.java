package dev.sharedipc.operator.runtime;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The operator's HTTP side: {@code /healthz} (the process is alive and its informers are healthy),
 * {@code /readyz} (started with its informers synced, whether it leads or stands by) and {@code
 * /metrics} (Prometheus).
 */
public final class HttpEndpoints implements AutoCloseable {
  /** A probe answer: ok or not, and a line saying why. */
  public record Health(boolean ok, String detail) {}

  private final HttpServer server;

  public HttpEndpoints(
      InetSocketAddress address,
      PrometheusRegistry registry,
      Supplier<Health> liveness,
      Supplier<Health> readiness)
      throws IOException {
    try {
      server = HttpServer.create(address, 0);
    } catch (BindException e) {
      throw new StartupFailure(
          "cannot serve /healthz, /readyz and /metrics on "
              + address.getHostString()
              + ":"
              + address.getPort()
              + ": "
              + e.getMessage()
              + " (another process, or another operator, holds the port): stop it, or choose another"
              + " port with --http-port or SHAREDIPC_HTTP_PORT (0 picks a free one)",
          e);
    }
    server.setExecutor(
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "http-endpoints");
              t.setDaemon(true);
              return t;
            }));
    server.createContext("/healthz", exchange -> probe(exchange, liveness.get()));
    server.createContext("/readyz", exchange -> probe(exchange, readiness.get()));
    PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
    server.createContext(
        "/metrics",
        exchange -> {
          ByteArrayOutputStream body = new ByteArrayOutputStream();
          writer.write(body, registry.scrape());
          exchange.getResponseHeaders().set("Content-Type", writer.getContentType());
          send(exchange, 200, body.toByteArray());
        });
    server.start();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private static void probe(HttpExchange exchange, Health health) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
    send(
        exchange,
        health.ok() ? 200 : 503,
        ((health.ok() ? "ok" : "not ok") + ": " + health.detail() + "\n")
            .getBytes(StandardCharsets.UTF_8));
  }

  private static void send(HttpExchange exchange, int code, byte[] body) throws IOException {
    exchange.sendResponseHeaders(code, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
