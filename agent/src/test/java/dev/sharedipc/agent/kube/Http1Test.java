package dev.sharedipc.agent.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link Http1} against a loopback socket that answers with bytes written here: how answers are
 * framed, what a request carries, and how a body read ends. TLS to a real API server is covered by
 * every agent IT (InformerIT, ServeIT...).
 */
class Http1Test {
  private final ServerSocket server;
  private final CompletableFuture<String> request = new CompletableFuture<>();
  private volatile Socket accepted;

  Http1Test() throws IOException {
    server = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
  }

  @AfterEach
  void close() throws IOException {
    server.close();
    if (accepted != null) {
      accepted.close();
    }
  }

  /** Accepts one call, keeps what it sent, answers {@code parts} in turn and stays open. */
  private void answer(String... parts) {
    Thread t =
        new Thread(
            () -> {
              try {
                Socket s = server.accept();
                accepted = s;
                request.complete(readRequest(s.getInputStream()));
                OutputStream out = s.getOutputStream();
                for (String part : parts) {
                  out.write(part.getBytes(StandardCharsets.ISO_8859_1));
                  out.flush();
                  Thread.sleep(5);
                }
              } catch (IOException | InterruptedException e) {
                request.completeExceptionally(e);
              }
            });
    t.setDaemon(true);
    t.start();
  }

  private static String readRequest(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int length = 0;
    while (true) {
      String line = Http1.line(in);
      head.writeBytes((line + "\n").getBytes(StandardCharsets.ISO_8859_1));
      if (line.toLowerCase().startsWith("content-length:")) {
        length = Integer.parseInt(line.substring(15).trim());
      }
      if (line.isEmpty()) {
        break;
      }
    }
    head.writeBytes(in.readNBytes(length));
    return head.toString(StandardCharsets.ISO_8859_1);
  }

  private Http1 client() {
    return new Http1(
        URI.create("http://127.0.0.1:" + server.getLocalPort() + "/"), null, Duration.ofSeconds(5));
  }

  private static String read(InputStream body) throws IOException {
    try (body) {
      return new String(body.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void aRequestCarriesItsHeadersItsLengthAndItsBody() throws Exception {
    answer("HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}");
    byte[] body = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);

    Http1.Answer answer =
        client()
            .call(
                "PATCH",
                "/apis/x/v1/things/a?fieldManager=me",
                List.of("Content-Type", "application/merge-patch+json", "Impersonate-Group", "g"),
                body,
                false);

    assertThat(answer.code()).isEqualTo(201);
    assertThat(read(answer.body())).isEqualTo("{}");
    assertThat(request.get(5, TimeUnit.SECONDS))
        .isEqualTo(
            "PATCH /apis/x/v1/things/a?fieldManager=me HTTP/1.1\n"
                + "Host: 127.0.0.1:"
                + server.getLocalPort()
                + "\n"
                + "Content-Type: application/merge-patch+json\n"
                + "Impersonate-Group: g\n"
                + "Content-Length: 7\n"
                + "Connection: close\n"
                + "\n"
                + "{\"a\":1}");
  }

  @Test
  void aChunkedAnswerIsReadWholeAcrossChunkAndPacketBoundaries() throws Exception {
    answer(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        "8\r\n{\"type\"",
        ":\r\n",
        "4;ext=1\r\n\"A\"}\r\n",
        "1\r\n\n\r\n",
        "0\r\nTrailer: x\r\n\r\n",
        "NOT PART OF THE ANSWER");

    Http1.Answer answer = client().call("GET", "/w", List.of(), null, true);

    assertThat(answer.code()).isEqualTo(200);
    assertThat(read(answer.body())).isEqualTo("{\"type\":\"A\"}\n");
  }

  @Test
  void aContentLengthAnswerEndsAtItsLengthEvenWhenTheConnectionStaysOpen() throws Exception {
    answer("HTTP/1.1 404 Not Found\r\ncontent-length: 5\r\n\r\n", "gone!", "and more");

    Http1.Answer answer = client().call("GET", "/x", List.of(), null, false);

    assertThat(answer.code()).isEqualTo(404);
    assertThat(read(answer.body())).isEqualTo("gone!");
  }

  @Test
  void aConnectionThatEndsInsideAChunkIsAnErrorNotAShortAnswer() throws Exception {
    answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "10\r\nonly six");
    Http1.Answer answer = client().call("GET", "/w", List.of(), null, true);
    Thread.sleep(50);
    accepted.close();

    assertThatThrownBy(() -> read(answer.body())).isInstanceOf(EOFException.class);
  }

  @Test
  void somethingThatIsNotHttpIsRefusedWithWhatItSaid() {
    answer("SSH-2.0-OpenSSH\r\n\r\n");

    assertThatThrownBy(() -> client().call("GET", "/", List.of(), null, false))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("SSH-2.0-OpenSSH");
  }

  @Test
  void aContentLengthThatIsNotANumberIsAnIoError() {
    answer("HTTP/1.1 200 OK\r\nContent-Length: lots\r\n\r\n");

    assertThatThrownBy(() -> client().call("GET", "/", List.of(), null, false))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("lots");
  }

  @Test
  void closingAStreamEndsAReadBlockedOnIt() throws Exception {
    answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "2\r\n{}\r\n");
    Http1.Answer answer = client().call("GET", "/w", List.of(), null, true);
    InputStream body = answer.body();
    CountDownLatch blocked = new CountDownLatch(1);
    CompletableFuture<Throwable> ended =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                body.readNBytes(2);
                blocked.countDown();
                body.read(); // nothing more comes: blocks
                return null;
              } catch (IOException e) {
                return e;
              }
            });
    assertThat(blocked.await(5, TimeUnit.SECONDS)).isTrue();
    Thread.sleep(100);
    assertThat(ended).isNotDone();

    body.close();

    assertThat(ended.get(5, TimeUnit.SECONDS)).isInstanceOf(IOException.class);
  }

  @Test
  void nothingListeningIsAnIoError() throws IOException {
    int port = server.getLocalPort();
    server.close();
    Http1 client =
        new Http1(URI.create("http://127.0.0.1:" + port + "/"), null, Duration.ofSeconds(2));

    assertThatThrownBy(() -> client.call("GET", "/", List.of(), null, false))
        .isInstanceOf(IOException.class);
  }
}
