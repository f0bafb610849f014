package dev.sharedipc.agent.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import org.junit.jupiter.api.Test;

class KubeconfigTest {
  static final String CONFIG =
      """
      apiVersion: v1
      kind: Config
      current-context: c
      contexts:
        - name: c
          context: {cluster: k, user: u}
      clusters:
        - name: k
          cluster: {server: "https://127.0.0.1:6443"}
      users:
        - name: u
          user: %s
      """;

  @Test
  void aCredentialPluginIsRefusedWithWhatToUseInstead() {
    assertThatThrownBy(
            () -> Kubeconfig.read(CONFIG.formatted("{exec: {command: aws, apiVersion: v1}}")))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("plugin (exec/auth-provider)")
        .hasMessageContaining("client certificate or a token");
  }

  @Test
  void aKubeconfigWithoutACertificateAuthorityTrustsTheJdksPublicCas() throws IOException {
    assertThat(Kubeconfig.read(CONFIG.formatted("{token: t}"))).isNotNull();
  }

  @Test
  void aMissingContextOrServerSaysWhich() {
    assertThatThrownBy(
            () -> Kubeconfig.read(CONFIG.formatted("{token: t}").replace("current-context: c", "")))
        .hasMessageContaining("no current-context");
    assertThatThrownBy(
            () ->
                Kubeconfig.read(
                    CONFIG.formatted("{token: t}").replace("user: u}", "user: nobody}")))
        .hasMessageContaining("no users entry named nobody");
    assertThatThrownBy(
            () ->
                Kubeconfig.read(
                    CONFIG
                        .formatted("{token: t}")
                        .replace("{server: \"https://127.0.0.1:6443\"}", "{}")))
        .hasMessageContaining("cluster k of the kubeconfig has no server");
  }
}
