package dev.sharedipc.agent.csi;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC server on the UNIX socket the kubelet and node-driver-registrar dial ({@code
 * unix:///csi/csi.sock}). Netty's epoll transport, because it is the one grpc-java transport that
 * speaks UNIX domain sockets. A socket file left by an earlier run is replaced.
 */
public final class CsiServer implements AutoCloseable {
  private final Server server;
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;

  private CsiServer(Server server, EventLoopGroup boss, EventLoopGroup workers) {
    this.server = server;
    this.boss = boss;
    this.workers = workers;
  }

  /** The socket path of an endpoint {@code unix:///path} (or {@code unix:/path}). */
  public static Path socketPath(String endpoint) {
    if (!endpoint.startsWith("unix:")) {
      throw new IllegalArgumentException(
          "--endpoint " + endpoint + " is not a UNIX socket: use unix:///path/csi.sock");
    }
    String path = endpoint.substring("unix:".length()).replaceFirst("^/+", "/");
    if (!path.startsWith("/")) {
      throw new IllegalArgumentException(
          "--endpoint " + endpoint + " has no absolute path: use unix:///path/csi.sock");
    }
    return Path.of(path);
  }

  public static CsiServer start(Path socket, List<BindableService> services) throws IOException {
    Files.createDirectories(socket.getParent());
    Files.deleteIfExists(socket);
    EventLoopGroup boss = new EpollEventLoopGroup(1);
    EventLoopGroup workers = new EpollEventLoopGroup(2);
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
            .channelType(EpollServerDomainSocketChannel.class)
            .bossEventLoopGroup(boss)
            .workerEventLoopGroup(workers);
    services.forEach(builder::addService);
    try {
      return new CsiServer(builder.build().start(), boss, workers);
    } catch (IOException e) {
      boss.shutdownGracefully();
      workers.shutdownGracefully();
      throw new IOException("cannot listen on " + socket + ": " + e.getMessage(), e);
    }
  }

  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdown();
    if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
      server.shutdownNow();
    }
    boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }
}
