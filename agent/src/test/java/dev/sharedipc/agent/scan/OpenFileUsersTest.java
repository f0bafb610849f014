package dev.sharedipc.agent.scan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.agent.scan.OpenFileUsers.FileId;
import org.junit.jupiter.api.Test;

class OpenFileUsersTest {
  @Test
  void stDevDecodesLikeGlibcMajorMinor() {
    assertThat(FileId.of(0x801, 7)).isEqualTo(new FileId(8, 1, 7));
    assertThat(FileId.of(0x1a, 7)).isEqualTo(new FileId(0, 0x1a, 7));
    // major 259, minor 0x12345: ((259 & 0xfff) << 8) | ((0x12345 & ~0xff) << 12) | (0x12345 & 0xff)
    long dev = (259L << 8) | ((0x12345L & ~0xffL) << 12) | (0x12345L & 0xff);
    assertThat(FileId.of(dev, 7)).isEqualTo(new FileId(259, 0x12345, 7));
  }
}
