package dev.sharedipc.operator.placement;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.PodSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The host ports a pod binds on its node, and whether two of them collide, by the kube-scheduler's
 * NodePorts rule: the same port and protocol collide when their host IPs are equal or either is the
 * wildcard {@code 0.0.0.0} (the default when none is given). App containers and restartable
 * (sidecar) init containers bind theirs for the pod's life; other init containers are counted too,
 * which errs on the side of a node that surely takes the pod.
 */
final class HostPorts {
  private static final String WILDCARD = "0.0.0.0";

  private HostPorts() {}

  /** One bound host port: protocol (TCP when unset), host IP (wildcard when unset) and port. */
  record HostPort(String protocol, String hostIp, int port) {
    boolean collidesWith(HostPort other) {
      return port == other.port
          && protocol.equals(other.protocol)
          && (hostIp.equals(other.hostIp)
              || WILDCARD.equals(hostIp)
              || WILDCARD.equals(other.hostIp));
    }

    @Override
    public String toString() {
      return (WILDCARD.equals(hostIp) ? "" : hostIp + ":") + port + "/" + protocol;
    }
  }

  /** Every host port the pod asks for (ports without a hostPort bind nothing on the node). */
  static List<HostPort> of(PodSpec spec) {
    List<HostPort> out = new ArrayList<>();
    if (spec == null) {
      return out;
    }
    List<Container> containers = new ArrayList<>();
    if (spec.getContainers() != null) {
      containers.addAll(spec.getContainers());
    }
    if (spec.getInitContainers() != null) {
      containers.addAll(spec.getInitContainers());
    }
    for (Container c : containers) {
      for (ContainerPort p : c.getPorts() == null ? List.<ContainerPort>of() : c.getPorts()) {
        if (p.getHostPort() != null && p.getHostPort() > 0) {
          out.add(
              new HostPort(
                  p.getProtocol() == null || p.getProtocol().isEmpty() ? "TCP" : p.getProtocol(),
                  p.getHostIP() == null || p.getHostIP().isEmpty() ? WILDCARD : p.getHostIP(),
                  p.getHostPort()));
        }
      }
    }
    return out;
  }

  /** The first of {@code wanted} that collides with one of {@code taken}, or null. */
  static HostPort firstCollision(List<HostPort> wanted, List<HostPort> taken) {
    for (HostPort w : wanted) {
      for (HostPort t : taken) {
        if (w.collidesWith(t)) {
          return w;
        }
      }
    }
    return null;
  }
}
