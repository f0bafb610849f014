package dev.sharedipc.agent.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/**
 * The parts of {@link SegmentsAccess} that need no API server: the bearer header and the refusals
 * without one.
 */
class SegmentsAccessTest {
  @Test
  void bearerTakesTheTokenOfABearerHeaderOnly() {
    assertThat(SegmentsAccess.bearer("Bearer abc.def")).isEqualTo("abc.def");
    assertThat(SegmentsAccess.bearer("bearer  abc ")).isEqualTo("abc");
    assertThat(SegmentsAccess.bearer("Basic dXNlcjpwdw==")).isNull();
    assertThat(SegmentsAccess.bearer("Bearer ")).isNull();
    assertThat(SegmentsAccess.bearer(null)).isNull();
  }

  @Test
  void withoutAnApiServerOnlyLoopbackIsLetIn() throws Exception {
    SegmentsAccess access = new SegmentsAccess(null, "n1");
    assertThat(access.decide(InetAddress.getByName("127.0.0.1"), null).status()).isEqualTo(200);
    assertThat(access.decide(InetAddress.getByName("::1"), null).status()).isEqualTo(200);
    assertThat(access.decide(InetAddress.getByName("192.0.2.7"), null).status()).isEqualTo(401);
    assertThat(access.decide(InetAddress.getByName("192.0.2.7"), "Bearer t").status())
        .isEqualTo(403);
  }
}
