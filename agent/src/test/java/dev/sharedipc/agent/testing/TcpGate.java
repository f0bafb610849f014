package dev.sharedipc.agent.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * A TCP gate on a fixed loopback port in front of a real server, for tests of a client that must
 * live through the server being away: {@link #refuse() refusing} (nothing listens: connection
 * refused, as a server that is down), {@link #blackhole() blackholing} (connections are accepted
 * and never answered, as a server behind a dropped route), or {@link #open() open} (bytes pass both
 * ways, TLS and all, to the target). Starts refusing. Closing closes every socket it made.
 */
public final class TcpGate implements AutoCloseable {
  private enum Mode {
    REFUSE,
    BLACKHOLE,
    OPEN
  }

  private final InetSocketAddress target;
  private final int port;
  private final List<Socket> sockets = new ArrayList<>();
  private volatile Mode mode = Mode.REFUSE;
  private volatile boolean stalled;
  private final java.util.concurrent.atomic.AtomicInteger accepted =
      new java.util.concurrent.atomic.AtomicInteger();
  private ServerSocket listener;

  public TcpGate(InetSocketAddress target) {
    this.target = target;
    try (ServerSocket probe = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      this.port = probe.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The loopback port clients should use. */
  public int port() {
    return port;
  }

  /**
   * How many connections it has accepted so far: with a client that opens one per call (the agent's
   * kube/Http1), how many calls reached the server.
   */
  public int accepted() {
    return accepted.get();
  }

  public synchronized void refuse() throws IOException {
    mode = Mode.REFUSE;
    if (listener != null) {
      listener.close();
      listener = null;
    }
    dropConnections();
  }

  /** Accepts connections and never answers; connections already forwarded are cut. */
  public synchronized void blackhole() throws IOException {
    mode = Mode.BLACKHOLE;
    dropConnections();
    listen();
  }

  /**
   * Forwards every new connection to the target; blackholed connections are cut, so their clients
   * try again.
   */
  public synchronized void open() throws IOException {
    mode = Mode.OPEN;
    stalled = false;
    dropConnections();
    listen();
  }

  /**
   * Connections stay open and forward nothing more, either way, as a peer gone without a word (no
   * reset, no FIN); {@link #open()} ends it.
   */
  public void stall() {
    stalled = true;
  }

  private void listen() throws IOException {
    if (listener != null) {
      return;
    }
    ServerSocket s = new ServerSocket();
    s.setReuseAddress(true);
    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
    listener = s;
    Thread accept = new Thread(() -> acceptLoop(s), "tcp-gate-" + port);
    accept.setDaemon(true);
    accept.start();
  }

  private void acceptLoop(ServerSocket s) {
    while (!s.isClosed()) {
      try {
        Socket client = s.accept();
        accepted.incrementAndGet();
        keep(client);
        if (mode == Mode.OPEN) {
          Socket server = new Socket(target.getAddress(), target.getPort());
          keep(server);
          pump(client, server);
          pump(server, client);
        }
        // BLACKHOLE: kept open, never read nor answered
      } catch (IOException e) {
        // listener closed, or the target refused one connection: that client sees a reset
      }
    }
  }

  private synchronized void keep(Socket s) {
    sockets.add(s);
  }

  private void pump(Socket from, Socket to) {
    Thread t =
        new Thread(
            () -> {
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                byte[] buffer = new byte[8192];
                int n;
                while ((n = in.read(buffer)) >= 0) {
                  while (stalled) {
                    Thread.sleep(50);
                  }
                  out.write(buffer, 0, n);
                  out.flush();
                }
              } catch (IOException | InterruptedException e) {
                // one side closed
              } finally {
                closeQuietly(from);
                closeQuietly(to);
              }
            },
            "tcp-gate-pump-" + port);
    t.setDaemon(true);
    t.start();
  }

  private synchronized void dropConnections() {
    sockets.forEach(TcpGate::closeQuietly);
    sockets.clear();
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // already closed
    }
  }

  @Override
  public synchronized void close() throws IOException {
    refuse();
  }
}
