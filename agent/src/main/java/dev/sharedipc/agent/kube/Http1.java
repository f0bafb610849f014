package dev.sharedipc.agent.kube;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * HTTP/1.1, one connection per call, blocking on the caller's thread: all the agent's few calls
 * need. The JDK's HttpClient did the same with a selector thread, up to six worker threads and some
 * 360 classes of its own (docs/agent.md, "Footprint"). A call sends {@code Connection: close}; its
 * answer is read by {@code Content-Length}, chunks, or to the end of the connection, and closing
 * the answer's body closes the connection, which also ends a read blocked on it (how an informer
 * gives up a silent watch).
 */
final class Http1 {
  /** An answer: its status code and its body, to be closed by the reader. */
  record Answer(int code, InputStream body) {}

  private final URI server;
  private final SSLSocketFactory tls;
  private final int timeoutMillis;

  /**
   * @param server {@code https://host:port/} (or {@code http://}, then {@code tls} is unused)
   * @param tls how to open TLS to it, checking that its certificate names {@code host}
   * @param timeout to connect, and for each read until the answer's headers are in
   */
  Http1(URI server, SSLSocketFactory tls, Duration timeout) {
    this.server = server;
    this.tls = tls;
    this.timeoutMillis = Math.toIntExact(timeout.toMillis());
  }

  /**
   * Sends one request and reads the answer's headers. With {@code stream}, reads of the body wait
   * as long as it takes (the caller closes it to give up); else each waits at most the timeout.
   *
   * @param headers name, value, name, value...
   * @param body the request's body, or null
   */
  Answer call(String method, String pathAndQuery, List<String> headers, byte[] body, boolean stream)
      throws IOException {
    Socket plain = new Socket();
    try {
      Socket socket = open(plain);
      OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 4096);
      StringBuilder head = new StringBuilder(256);
      head.append(method).append(' ').append(pathAndQuery).append(" HTTP/1.1\r\n");
      head.append("Host: ").append(server.getRawAuthority()).append("\r\n");
      for (int i = 0; i + 1 < headers.size(); i += 2) {
        head.append(headers.get(i)).append(": ").append(headers.get(i + 1)).append("\r\n");
      }
      if (body != null) {
        head.append("Content-Length: ").append(body.length).append("\r\n");
      }
      head.append("Connection: close\r\n\r\n");
      out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
      if (body != null) {
        out.write(body);
      }
      out.flush();
      InputStream in = new BufferedInputStream(socket.getInputStream(), 8192);
      int code = statusCode(line(in));
      long length = -1;
      boolean chunked = false;
      for (String header = line(in); !header.isEmpty(); header = line(in)) {
        int colon = header.indexOf(':');
        if (colon < 0) {
          continue;
        }
        String name = header.substring(0, colon).trim().toLowerCase(Locale.ROOT);
        String value = header.substring(colon + 1).trim();
        if (name.equals("content-length")) {
          try {
            length = Long.parseLong(value);
          } catch (NumberFormatException e) {
            throw new IOException("not a Content-Length: " + value, e);
          }
        } else if (name.equals("transfer-encoding")) {
          chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
        }
      }
      if (stream) {
        socket.setSoTimeout(0);
      }
      InputStream framed = chunked ? new Chunked(in) : length >= 0 ? new Bounded(in, length) : in;
      return new Answer(code, new Closing(framed, plain));
    } catch (IOException | RuntimeException e) {
      plain.close();
      throw e;
    }
  }

  /**
   * Connects {@code plain} and returns the socket to talk through: {@code plain} itself, or TLS
   * over it.
   */
  private Socket open(Socket plain) throws IOException {
    boolean secure = "https".equalsIgnoreCase(server.getScheme());
    String host = server.getHost();
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port = server.getPort() > 0 ? server.getPort() : secure ? 443 : 80;
    plain.connect(new InetSocketAddress(host, port), timeoutMillis);
    plain.setSoTimeout(timeoutMillis);
    if (!secure) {
      return plain;
    }
    SSLSocket socket = (SSLSocket) tls.createSocket(plain, host, port, true);
    SSLParameters params = socket.getSSLParameters();
    params.setEndpointIdentificationAlgorithm("HTTPS");
    socket.setSSLParameters(params);
    socket.startHandshake();
    return socket;
  }

  /** "HTTP/1.1 200 OK" to 200. */
  static int statusCode(String statusLine) throws IOException {
    String[] parts = statusLine.split(" ", 3);
    if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
      throw new IOException("not an HTTP answer: " + statusLine);
    }
    try {
      return Integer.parseInt(parts[1]);
    } catch (NumberFormatException e) {
      throw new IOException("not an HTTP status line: " + statusLine, e);
    }
  }

  /** One header line, without its CRLF; a connection that ends inside it is an error. */
  static String line(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream(64);
    for (int b = in.read(); b != '\n'; b = in.read()) {
      if (b < 0) {
        throw new EOFException("the connection ended inside the answer's headers");
      }
      if (b != '\r') {
        line.write(b);
      }
    }
    return line.toString(StandardCharsets.ISO_8859_1);
  }

  /** A body framed within the connection: every read, skip included, goes through the framing. */
  private abstract static class Framed extends FilterInputStream {
    Framed(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public long skip(long n) throws IOException {
      byte[] scratch = new byte[(int) Math.min(n, 4096)];
      long skipped = 0;
      while (skipped < n) {
        int r = read(scratch, 0, (int) Math.min(scratch.length, n - skipped));
        if (r < 0) {
          break;
        }
        skipped += r;
      }
      return skipped;
    }

    @Override
    public boolean markSupported() {
      return false;
    }
  }

  /** A body sent in chunks (a watch's events as they happen); ends at the last, empty chunk. */
  static final class Chunked extends Framed {
    private long left;
    private boolean done;

    Chunked(InputStream in) {
      super(in);
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) {
        return 0;
      }
      if (left == 0 && !nextChunk()) {
        return -1;
      }
      int n = in.read(b, off, (int) Math.min(len, left));
      if (n < 0) {
        throw new EOFException("the connection ended inside a chunk");
      }
      left -= n;
      if (left == 0) {
        line(in); // the chunk's CRLF
      }
      return n;
    }

    private boolean nextChunk() throws IOException {
      if (done) {
        return false;
      }
      String size = line(in);
      int semicolon = size.indexOf(';');
      try {
        left = Long.parseLong((semicolon < 0 ? size : size.substring(0, semicolon)).trim(), 16);
      } catch (NumberFormatException e) {
        throw new IOException("not a chunk size: " + size, e);
      }
      if (left == 0) {
        done = true;
        while (!line(in).isEmpty()) {
          // trailers: none that matter here
        }
        return false;
      }
      return true;
    }

    @Override
    public int available() throws IOException {
      return (int) Math.min(left, in.available());
    }
  }

  /** A body of {@code Content-Length} bytes. */
  static final class Bounded extends Framed {
    private long left;

    Bounded(InputStream in, long length) {
      super(in);
      this.left = length;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (left == 0) {
        return -1;
      }
      if (len == 0) {
        return 0;
      }
      int n = in.read(b, off, (int) Math.min(len, left));
      if (n < 0) {
        throw new EOFException("the connection ended " + left + " bytes before the answer's end");
      }
      left -= n;
      return n;
    }

    @Override
    public int available() throws IOException {
      return (int) Math.min(left, in.available());
    }
  }

  /**
   * The body as read; closing it closes the connection underneath any TLS, at once: a TLS socket's
   * own close may wait on a read blocked in another thread, which is the read it is meant to end.
   */
  private static final class Closing extends FilterInputStream {
    private final Socket plain;

    Closing(InputStream in, Socket plain) {
      super(in);
      this.plain = plain;
    }

    @Override
    public void close() throws IOException {
      plain.close();
    }
  }
}
