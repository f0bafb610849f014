package dev.sharedipc.agent.survey;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.agent.scan.MemoryVolume;
import org.junit.jupiter.api.Test;

class PosixVolumeFindingTest {
  static MemoryVolume used(long size, long used) {
    return new MemoryVolume(MemoryVolume.Kind.DevShm, "dev-shm", "/x", "uid", size, used);
  }

  @Test
  void aVolumeIsFullForTheGuardFromNinetyPercentOfItsSize() {
    assertThat(PosixVolumeFinding.full(used(1000, 900))).isTrue();
    assertThat(PosixVolumeFinding.full(used(1000, 899))).isFalse();
    assertThat(PosixVolumeFinding.full(used(64L << 20, 64L << 20))).isTrue();
    assertThat(PosixVolumeFinding.full(used(0, 0))).as("size unknown").isFalse();
    assertThat(PosixVolumeFinding.full(used(Long.MAX_VALUE / 50, Long.MAX_VALUE / 50)))
        .as("no overflow near the top")
        .isTrue();
    assertThat(PosixVolumeFinding.full(used(Long.MAX_VALUE / 50, Long.MAX_VALUE / 100)))
        .as("half full near the top")
        .isFalse();
    assertThat(PosixVolumeFinding.full(used(999, 900))).isTrue();
    assertThat(PosixVolumeFinding.full(used(999, 899))).as("89.99%%").isFalse();
  }
}
