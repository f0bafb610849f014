package dev.sharedipc.e2e.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Ports for the processes the scenarios start (operator, agents, Prometheus) on 127.0.0.1. */
public final class Ports {
  private Ports() {}

  /** A TCP port free on the loopback address now (the kernel's pick). */
  public static int freeLoopbackPort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free port on 127.0.0.1", e);
    }
  }
}
