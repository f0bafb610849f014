package dev.sharedipc.agent.report;

import dev.sharedipc.agent.report.HttpListener.Response;
import dev.sharedipc.agent.report.HttpListener.Route;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The daemon's HTTP endpoint: {@code /metrics} (Prometheus text), {@code /healthz} (liveness: 200
 * while scans keep succeeding and no informer has stopped for good; an API server that is merely
 * away does not fail it, since a restart would not bring it back), {@code /readyz} (readiness:
 * healthy, and both informers have listed once), {@code /segments} (the last scan, every segment,
 * as the CLI's JSON, only to callers {@link SegmentsAccess} lets in: a bearer token the API server
 * authorizes, wherever the call comes from). A 503 says why in its body; a 401 or 403 from {@code
 * /segments} says what the caller lacks, a 429 when to try again.
 *
 * <p>The probes answer within a second whatever the other paths and their callers do, or the
 * kubelet restarts a working agent: {@link HttpListener} reads and writes without waiting for any
 * client, and answers the probes on its own thread, which they may use because they only read
 * memory. {@code /metrics} runs on a thread of its own (a scrape waits while a pass records its
 * metrics); {@code /segments} on two (each may wait 10 s per review on a slow API server, and for a
 * pass in progress to hand over its findings), with {@link #SEGMENTS_IN_FLIGHT} callers at most in
 * flight: beyond that a caller gets 503 at once.
 */
public final class HttpEndpoint implements AutoCloseable {
  /** /segments callers answered at once: two reviewed, two waiting; more get 503 busy. */
  static final int SEGMENTS_IN_FLIGHT = 4;

  private static final int SEGMENTS_THREADS = 2;
  private static final int METRICS_WAITING = 4;

  private final ThreadPoolExecutor metricsThread = bounded("http-metrics", 1, METRICS_WAITING);
  private final ThreadPoolExecutor segmentsThreads =
      bounded("http-segments", SEGMENTS_THREADS, SEGMENTS_IN_FLIGHT - SEGMENTS_THREADS);
  private final HttpListener listener;

  /**
   * @param unhealthy why the agent should be restarted, or empty; read on the listener's thread, so
   *     it must only read memory
   * @param notReady why the agent cannot yet judge by cluster facts (besides being unhealthy), or
   *     empty; the same rule
   */
  public HttpEndpoint(
      InetSocketAddress address,
      Metrics metrics,
      Supplier<Optional<String>> unhealthy,
      Supplier<Optional<String>> notReady,
      Supplier<String> segmentsJson,
      SegmentsAccess segmentsAccess)
      throws IOException {
    listener =
        new HttpListener(
            address,
            List.of(
                new Route("/healthz", r -> probe(unhealthy.get()), null),
                new Route("/readyz", r -> probe(unhealthy.get().or(notReady)), null),
                new Route(
                    "/metrics",
                    r ->
                        new Response(
                            200,
                            Metrics.contentType(),
                            metrics.scrape().getBytes(StandardCharsets.UTF_8),
                            Map.of()),
                    metricsThread),
                new Route(
                    "/segments",
                    r -> segments(segmentsAccess.decide(r.header("Authorization")), segmentsJson),
                    segmentsThreads)),
            r -> Response.text(404, "try /metrics, /healthz, /readyz or /segments\n"));
  }

  public int port() {
    return listener.port();
  }

  private static Response probe(Optional<String> problem) {
    return Response.text(problem.isEmpty() ? 200 : 503, problem.map(p -> p + "\n").orElse("ok\n"));
  }

  private static Response segments(SegmentsAccess.Decision d, Supplier<String> segmentsJson) {
    if (d.allowed()) {
      return new Response(
          200, "application/json", segmentsJson.get().getBytes(StandardCharsets.UTF_8), Map.of());
    }
    Response refusal = Response.text(d.status(), d.reason() + "\n");
    return switch (d.status()) {
      case 401 -> refusal.withHeader("WWW-Authenticate", "Bearer");
      case 429 ->
          refusal.withHeader(
              "Retry-After", Long.toString(SegmentsAccess.FAILED_TOKEN_REFILL.toSeconds()));
      default -> refusal;
    };
  }

  /** {@code threads} daemon threads, {@code waiting} queued tasks; more are refused. */
  private static ThreadPoolExecutor bounded(String name, int threads, int waiting) {
    AtomicInteger n = new AtomicInteger();
    ThreadPoolExecutor pool =
        new ThreadPoolExecutor(
            threads,
            threads,
            60,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(waiting),
            r -> {
              Thread t = new Thread(null, r, name + "-" + n.incrementAndGet(), 256 * 1024);
              t.setDaemon(true);
              return t;
            });
    // idle threads go: the endpoint is called every few seconds, and a thread is memory
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  @Override
  public void close() {
    listener.close();
    metricsThread.shutdownNow();
    segmentsThreads.shutdownNow();
  }
}
