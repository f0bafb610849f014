package dev.sharedipc.agent.report;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The daemon's HTTP endpoint on the JDK's built-in server (one small thread, no extra library):
 * {@code /metrics} (Prometheus text), {@code /healthz} (200 while scans keep succeeding),
 * {@code /segments} (the last scan, every segment, as the CLI's JSON).
 */
public final class HttpEndpoint implements AutoCloseable {
  private final HttpServer server;

  public HttpEndpoint(InetSocketAddress address, Metrics metrics, BooleanSupplier healthy, Supplier<String> segmentsJson) throws IOException {
    server = HttpServer.create(address, 16);
    server.setExecutor(Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(null, r, "http", 256 * 1024);
      t.setDaemon(true);
      return t;
    }));
    server.createContext("/metrics", ex -> send(ex, 200, Metrics.contentType(), metrics.scrape()));
    server.createContext("/healthz", ex -> {
      boolean ok = healthy.getAsBoolean();
      send(ex, ok ? 200 : 503, "text/plain; charset=utf-8", ok ? "ok\n" : "no successful scan recently\n");
    });
    server.createContext("/segments", ex -> send(ex, 200, "application/json", segmentsJson.get()));
    server.createContext("/", ex -> send(ex, 404, "text/plain; charset=utf-8", "try /metrics, /healthz or /segments\n"));
    server.start();
  }

  public int port() {
    return server.getAddress().getPort();
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
