package dev.sharedipc.agent.report;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's HTTP/1.1 server, on one thread that never waits for a client: it accepts, reads each
 * request head and writes each answer without blocking (NIO), so a client that sends its head a
 * byte at a time, never ends it, or never reads its answer costs a buffer, not the thread. Each
 * request head must arrive whole within {@link #HEAD_TIMEOUT} and fit in {@link #MAX_HEAD_BYTES};
 * each answer must be taken within {@link #WRITE_TIMEOUT}; at most {@link #MAX_CONNECTIONS} are
 * kept, and a new one beyond that closes the oldest still sending its head, so slow clients cannot
 * crowd out a probe whose head arrives in one packet. One request per connection ({@code
 * Connection: close}); GET and HEAD only. The JDK's com.sun.net.httpserver, used before, read each
 * head on its executor's thread: one slow client stopped every probe behind it.
 *
 * <p>A {@link Route} says where its handler runs: on this thread (only for handlers that read
 * memory and never wait: the probes), or on an executor of its own, which may refuse work when full
 * (then the client gets a 503 at once). {@link HttpEndpoint} holds the routes.
 */
final class HttpListener implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HttpListener.class);

  static final Duration HEAD_TIMEOUT = Duration.ofSeconds(5);
  static final Duration WRITE_TIMEOUT = Duration.ofSeconds(10);

  /** After the answer, how long the client may take to close its side before a close from here. */
  static final Duration LINGER = Duration.ofSeconds(2);

  static final int MAX_HEAD_BYTES = 8 * 1024;
  static final int MAX_CONNECTIONS = 64;

  /** How often deadlines are looked at when nothing happens. */
  private static final long SWEEP_MILLIS = 250;

  /** What a request asked: its method, path (without the query) and headers (names lower case). */
  record Request(String method, String path, Map<String, String> headers) {
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  /** An answer: status, content type, body, and extra headers. */
  record Response(int status, String contentType, byte[] body, Map<String, String> headers) {
    static Response text(int status, String body) {
      return new Response(
          status, "text/plain; charset=utf-8", body.getBytes(StandardCharsets.UTF_8), Map.of());
    }

    Response withHeader(String name, String value) {
      Map<String, String> more = new LinkedHashMap<>(headers);
      more.put(name, value);
      return new Response(status, contentType, body, more);
    }
  }

  interface Handler {
    Response handle(Request request) throws Exception;
  }

  /**
   * A path and its handler; {@code executor} null runs it on the listener's thread, which is only
   * for handlers that read memory and never wait.
   */
  record Route(String path, Handler handler, Executor executor) {}

  private enum State {
    READING,
    HANDLING,
    WRITING,
    LINGERING
  }

  private final class Connection {
    final SocketChannel channel;
    final SelectionKey key;
    final ByteBuffer head = ByteBuffer.allocate(MAX_HEAD_BYTES);
    State state = State.READING;

    /** A HEAD request: the answer's head only. */
    boolean headOnly;

    long deadline = System.nanoTime() + HEAD_TIMEOUT.toNanos();
    ByteBuffer out;

    Connection(SocketChannel channel, SelectionKey key) {
      this.channel = channel;
      this.key = key;
    }
  }

  private final ServerSocketChannel server;
  private final Selector selector;
  private final Map<String, Route> routes = new LinkedHashMap<>();
  private final Handler notFound;

  /** Every open connection, oldest first. */
  private final LinkedHashMap<SocketChannel, Connection> connections = new LinkedHashMap<>();

  /** Answers made on executors, for this thread to write. */
  private final Queue<Map.Entry<Connection, Response>> answered = new ConcurrentLinkedQueue<>();

  private final Thread thread;
  private volatile boolean closed;

  HttpListener(InetSocketAddress address, List<Route> routes, Handler notFound) throws IOException {
    for (Route r : routes) {
      this.routes.put(r.path(), r);
    }
    this.notFound = notFound;
    selector = Selector.open();
    server = ServerSocketChannel.open();
    server.bind(address, MAX_CONNECTIONS);
    server.configureBlocking(false);
    server.register(selector, SelectionKey.OP_ACCEPT);
    thread = new Thread(null, this::run, "http", 256 * 1024);
    thread.setDaemon(true);
    thread.start();
  }

  int port() {
    return server.socket().getLocalPort();
  }

  private void run() {
    try {
      while (!closed) {
        selector.select(SWEEP_MILLIS);
        for (Iterator<SelectionKey> it = selector.selectedKeys().iterator(); it.hasNext(); ) {
          SelectionKey key = it.next();
          it.remove();
          if (!key.isValid()) {
            continue;
          }
          if (key.isAcceptable()) {
            accept();
          } else {
            Connection c = (Connection) key.attachment();
            try {
              if (key.isReadable()) {
                readable(c);
              }
              if (key.isValid() && key.isWritable()) {
                write(c);
              }
            } catch (IOException | CancelledKeyException e) {
              close(c); // that client's connection only
            }
          }
        }
        for (Map.Entry<Connection, Response> a; (a = answered.poll()) != null; ) {
          respond(a.getKey(), a.getValue());
        }
        sweep();
      }
    } catch (ClosedSelectorException e) {
      // closed
    } catch (IOException | RuntimeException e) {
      LOG.error("action=stop component=http reason=\"{}\"", e.toString(), e);
    }
  }

  private void accept() throws IOException {
    // a bounded batch per round: connections that keep coming must not keep the reads waiting
    SocketChannel ch;
    for (int i = 0; i < MAX_CONNECTIONS && (ch = server.accept()) != null; i++) {
      if (connections.size() >= MAX_CONNECTIONS && !evictOldestReader()) {
        ch.close(); // every connection is being answered: this one waits for none
        continue;
      }
      ch.configureBlocking(false);
      SelectionKey key = ch.register(selector, SelectionKey.OP_READ);
      Connection c = new Connection(ch, key);
      key.attach(c);
      connections.put(ch, c);
    }
  }

  /** Closes the oldest connection still sending its head, if any. */
  private boolean evictOldestReader() {
    for (Connection c : connections.values()) {
      if (c.state == State.READING) {
        close(c);
        return true;
      }
    }
    return false;
  }

  private void readable(Connection c) throws IOException {
    if (c.state == State.LINGERING) {
      ByteBuffer discard = ByteBuffer.allocate(512);
      while (true) {
        int n = c.channel.read(discard);
        if (n < 0) {
          close(c);
          return;
        }
        if (n == 0) {
          return;
        }
        discard.clear();
      }
    }
    if (c.state != State.READING) {
      // the rest of a request (a body): not read, the answer says Connection: close
      c.key.interestOps(c.key.interestOps() & ~SelectionKey.OP_READ);
      return;
    }
    int n = c.channel.read(c.head);
    if (n < 0) {
      close(c);
      return;
    }
    int end = headEnd(c.head);
    if (end < 0) {
      if (!c.head.hasRemaining()) {
        respond(c, Response.text(431, "request head larger than " + MAX_HEAD_BYTES + " bytes\n"));
      }
      return;
    }
    Request request = parse(new String(c.head.array(), 0, end, StandardCharsets.ISO_8859_1));
    c.key.interestOps(0);
    if (request == null) {
      respond(c, Response.text(400, "malformed request\n"));
    } else if (!request.method().equals("GET") && !request.method().equals("HEAD")) {
      respond(c, Response.text(405, "only GET and HEAD\n").withHeader("Allow", "GET, HEAD"));
    } else {
      dispatch(c, request);
    }
  }

  private void dispatch(Connection c, Request request) {
    Route route = routes.get(request.path());
    Handler handler = route == null ? notFound : route.handler();
    c.state = State.HANDLING;
    c.headOnly = request.method().equals("HEAD");
    if (route == null || route.executor() == null) {
      respond(c, answer(handler, request));
      return;
    }
    try {
      route
          .executor()
          .execute(
              () -> {
                answered.add(Map.entry(c, answer(handler, request)));
                selector.wakeup();
              });
    } catch (RejectedExecutionException e) {
      respond(
          c,
          Response.text(503, request.path() + " is busy answering other callers; try again\n")
              .withHeader("Retry-After", "1"));
    }
  }

  private static Response answer(Handler handler, Request request) {
    try {
      return handler.handle(request);
    } catch (Exception e) {
      LOG.warn("action=answer path={} result=error reason=\"{}\"", request.path(), e.toString());
      return Response.text(500, "internal error: " + e + "\n");
    }
  }

  private void respond(Connection c, Response r) {
    if (!c.channel.isOpen() || !c.key.isValid()) {
      return; // cut off while its handler ran
    }
    StringBuilder head =
        new StringBuilder("HTTP/1.1 ")
            .append(r.status())
            .append(' ')
            .append(reason(r.status()))
            .append("\r\nContent-Type: ")
            .append(r.contentType())
            .append("\r\nContent-Length: ")
            .append(r.body().length)
            .append("\r\nConnection: close\r\n");
    r.headers().forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
    head.append("\r\n");
    byte[] h = head.toString().getBytes(StandardCharsets.ISO_8859_1);
    byte[] body = c.headOnly ? new byte[0] : r.body();
    c.out = ByteBuffer.allocate(h.length + body.length).put(h).put(body).flip();
    c.state = State.WRITING;
    c.deadline = System.nanoTime() + WRITE_TIMEOUT.toNanos();
    try {
      write(c);
    } catch (IOException e) {
      close(c);
    }
  }

  private void write(Connection c) throws IOException {
    if (c.state != State.WRITING) {
      return;
    }
    c.channel.write(c.out);
    if (c.out.hasRemaining()) {
      c.key.interestOps(SelectionKey.OP_WRITE);
      return;
    }
    // Half-close and read until the client closes: closing with unread bytes would reset the
    // connection, and the client could lose the answer.
    c.channel.shutdownOutput();
    c.state = State.LINGERING;
    c.deadline = System.nanoTime() + LINGER.toNanos();
    c.key.interestOps(SelectionKey.OP_READ);
  }

  /** Closes connections past their deadline, except those whose handler is still at work. */
  private void sweep() {
    long now = System.nanoTime();
    List<Connection> late = new ArrayList<>();
    for (Connection c : connections.values()) {
      if (c.state != State.HANDLING && now - c.deadline > 0) {
        late.add(c);
      }
    }
    for (Connection c : late) {
      if (c.state == State.READING) {
        LOG.debug("action=close component=http reason=\"request head not complete in time\"");
      }
      close(c);
    }
  }

  private void close(Connection c) {
    connections.remove(c.channel);
    c.key.cancel();
    try {
      c.channel.close();
    } catch (IOException e) {
      // closing
    }
  }

  /** The offset just past the blank line that ends the head, or -1. */
  private static int headEnd(ByteBuffer buf) {
    byte[] b = buf.array();
    for (int i = 3; i < buf.position(); i++) {
      if (b[i] == '\n' && b[i - 1] == '\r' && b[i - 2] == '\n' && b[i - 3] == '\r') {
        return i + 1;
      }
    }
    return -1;
  }

  /** The request line and headers, or null when malformed. */
  static Request parse(String head) {
    String[] lines = head.split("\r\n");
    String[] line = lines[0].split(" ");
    if (line.length != 3 || !line[2].startsWith("HTTP/1.")) {
      return null;
    }
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon <= 0) {
        continue;
      }
      headers.put(
          lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
          lines[i].substring(colon + 1).trim());
    }
    String target = line[1];
    int query = target.indexOf('?');
    return new Request(line[0], query < 0 ? target : target.substring(0, query), headers);
  }

  private static String reason(int status) {
    return switch (status) {
      case 200 -> "OK";
      case 400 -> "Bad Request";
      case 401 -> "Unauthorized";
      case 403 -> "Forbidden";
      case 404 -> "Not Found";
      case 405 -> "Method Not Allowed";
      case 429 -> "Too Many Requests";
      case 431 -> "Request Header Fields Too Large";
      case 500 -> "Internal Server Error";
      case 503 -> "Service Unavailable";
      default -> "Status";
    };
  }

  @Override
  public void close() {
    closed = true;
    selector.wakeup();
    try {
      thread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (Connection c : new ArrayList<>(connections.values())) {
      close(c);
    }
    try {
      server.close();
      selector.close();
    } catch (IOException e) {
      // closing
    }
  }
}
