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
}
