package dev.sharedipc.agent.report;

import static org.assertj.core.api.Assertions.assertThat;

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
  void noCallerIsLetInWithoutAToken() {
    // It is not asked where the call comes from: a sidecar proxy or a forwarder in the agent's
    // network namespace makes every caller loopback (SegmentsAccessIT calls on loopback).
    SegmentsAccess.Decision d = new SegmentsAccess(null, "n1").decide(null);
    assertThat(d.status()).isEqualTo(401);
    assertThat(d.reason()).contains("Authorization: Bearer");
  }

  @Test
  void withoutAnApiServerNoTokenCanBeCheckedSoNoneIsLetIn() {
    SegmentsAccess access = new SegmentsAccess(null, "n1");
    SegmentsAccess.Decision d = access.decide("Bearer t");
    assertThat(d.status()).isEqualTo(403);
    assertThat(d.reason()).contains("without an API server", "sharedipc-agent scan");
  }
}
