package dev.sharedipc.operator.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.http.HttpClient;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/**
 * The operator's classpath holds exactly one fabric8 HTTP client, so none is "chosen randomly" at
 * start.
 */
class HttpClientChoiceTest {
  @Test
  void exactlyOneHttpClientFactoryIsOnTheClasspath() {
    assertThat(
            ServiceLoader.load(HttpClient.Factory.class).stream()
                .map(p -> p.type().getName())
                .toList())
        .containsExactly("io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory");
  }
}
