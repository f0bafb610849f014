package dev.sharedipc.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ScanCommandTest {
  @Test
  void rootsFullCapabilitySetIsEnough() {
    assertThat(ScanCommand.hasCapabilities("Name:\tjava\nCapEff:\t000001ffffffffff\n")).isTrue();
  }

  @Test
  void anUnprivilegedUserOrOneCapabilityAloneIsNot() {
    assertThat(ScanCommand.hasCapabilities("CapEff:\t0000000000000000\n")).isFalse();
    assertThat(ScanCommand.hasCapabilities("CapEff:\t0000000000200000\n"))
        .as("CAP_SYS_ADMIN only")
        .isFalse();
    assertThat(ScanCommand.hasCapabilities("CapEff:\t0000000000280000\n")).as("both").isTrue();
    assertThat(ScanCommand.hasCapabilities("Name:\tjava\n")).isFalse();
  }
}
