package dev.sharedipc.agent.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The agent's HTTP endpoint against clients that do not play along, over real loopback sockets:
 * slow clients that send a request head a byte at a time or never finish it (slowloris), more of
 * them than the endpoint keeps, and clients that never read their answer. Whatever they do, a probe
 * answers within 1 s (the kubelet's default probe timeout), and their connections are cut. The
 * /segments side, where a slow API server is the slow party, is HttpEndpointIT's.
 */
class HttpEndpointTest {
  HttpEndpoint endpoint;
  final List<Socket> clients = new ArrayList<>();

  @BeforeEach
  void endpoint() throws IOException {
    endpoint =
        new HttpEndpoint(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            new Metrics(),
            Optional::empty,
            () -> Optional.of("informer(s) pods not synced yet"),
            () -> "{\"segments\":[]}\n",
            new SegmentsAccess(null, "n1"));
  }

  @AfterEach
  void close() throws IOException {
    for (Socket s : clients) {
      s.close();
    }
    endpoint.close();
  }

  @Test
  void probesAnswerWithinASecondWhileSlowClientsHoldMoreConnectionsThanTheEndpointKeeps()
      throws Exception {
    for (int i = 0; i < 3 * HttpListener.MAX_CONNECTIONS; i++) {
      // a head begun and never ended, each on its own connection
      slowClient().getOutputStream().write("GET /metrics HTTP/1.1\r\nHost: x\r\n".getBytes());
    }

    assertThat(get("/healthz")).startsWith("HTTP/1.1 200").endsWith("\r\n\r\nok\n");
    assertThat(get("/readyz")).startsWith("HTTP/1.1 503").contains("not synced yet");
    assertThat(get("/metrics")).startsWith("HTTP/1.1 200").contains("sharedipc_");
  }

  @Test
  void aClientThatNeverFinishesItsRequestHeadIsCutOff() throws Exception {
    Socket slow = slowClient();
    slow.getOutputStream().write("GET /healthz HTTP/1.1\r\n".getBytes());
    slow.setSoTimeout(500);

    await("the endpoint closes the connection")
        .atMost(HttpListener.HEAD_TIMEOUT.plusSeconds(10))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> closedByPeer(slow));
  }

  @Test
  void aRequestHeadTooLargeIsRefusedAndAnUnknownPathIsNotFound() throws Exception {
    String huge =
        "GET /healthz HTTP/1.1\r\nX: " + "a".repeat(HttpListener.MAX_HEAD_BYTES) + "\r\n\r\n";
    assertThat(raw(huge)).startsWith("HTTP/1.1 431");
    assertThat(get("/nowhere")).startsWith("HTTP/1.1 404").contains("/healthz");
    assertThat(raw("POST /healthz HTTP/1.1\r\nContent-Length: 0\r\n\r\n"))
        .startsWith("HTTP/1.1 405");
  }

  private Socket slowClient() throws IOException {
    Socket s = new Socket(InetAddress.getLoopbackAddress(), endpoint.port());
    clients.add(s);
    return s;
  }

  /** GET {@code path}: the whole answer, which must come within 1 s. */
  private String get(String path) throws IOException {
    return raw("GET " + path + " HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n");
  }

  private String raw(String request) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), endpoint.port()), 1000);
      s.setSoTimeout(1000);
      OutputStream out = s.getOutputStream();
      out.write(request.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      return new String(readToEnd(s.getInputStream()), StandardCharsets.UTF_8);
    }
  }

  /** Until the peer closes; a read timeout (1 s) fails the call. */
  private static byte[] readToEnd(InputStream in) throws IOException {
    return in.readAllBytes();
  }

  private static boolean closedByPeer(Socket s) throws IOException {
    try {
      return s.getInputStream().read() == -1;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset
    }
  }
}
