package dev.sharedipc.agent.testing;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.sharedipc.agent.kube.KubeApi;
import dev.sharedipc.api.testing.RealApiServer;
import java.io.IOException;
import java.io.UncheckedIOException;

/** The agent's own client of a test's API server, as the agent would connect. */
public final class AgentClients {
  private AgentClients() {}

  /** As the test's admin. */
  public static KubeApi of(RealApiServer api) {
    try {
      return KubeApi.fromKubeconfig(api.kubeConfigYaml());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * As {@code user} in {@code groups}: the admin's kubeconfig with {@code as} and {@code as-groups}
   * (impersonation, as kubectl --as does), so the API server applies that user's RBAC.
   */
  public static KubeApi as(RealApiServer api, String user, String... groups) {
    try {
      YAMLMapper yaml = new YAMLMapper();
      ObjectNode config = (ObjectNode) yaml.readTree(api.kubeConfigYaml());
      config
          .path("users")
          .forEach(
              u -> {
                ObjectNode entry = (ObjectNode) u.path("user");
                entry.put("as", user);
                var list = entry.putArray("as-groups");
                for (String g : groups) {
                  list.add(g);
                }
              });
      return KubeApi.fromKubeconfig(yaml.writeValueAsString(config));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A TCP gate on loopback in front of the test's API server; it refuses until opened. */
  public static TcpGate gateInFrontOf(RealApiServer api) {
    java.net.URI uri = java.net.URI.create(api.client().getConfiguration().getMasterUrl());
    return new TcpGate(new java.net.InetSocketAddress(uri.getHost(), uri.getPort()));
  }

  /** The test's kubeconfig, pointed at {@code gate} instead of the API server. */
  public static String kubeconfigThrough(RealApiServer api, TcpGate gate) {
    String direct = api.client().getConfiguration().getMasterUrl().replaceAll("/+$", "");
    return api.kubeConfigYaml().replace(direct, "https://127.0.0.1:" + gate.port());
  }
}
