package dev.sharedipc.agent.scan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.agent.scan.OpenFileUsers.FileId;
import dev.sharedipc.agent.scan.OpenFileUsers.MapsLine;
import org.junit.jupiter.api.Test;

class OpenFileUsersTest {
  @Test
  void mapsLinesGiveDeviceInodeAndPath() {
    MapsLine m = MapsLine.parse("7f1c2a000000-7f1c2a100000 rw-s 00000000 00:1a 123456                     /dev/shm/sharedipc/t_g_0/ring (deleted)");
    assertThat(m.id()).isEqualTo(new FileId(0, 0x1a, 123456));
    assertThat(m.path()).isEqualTo("/dev/shm/sharedipc/t_g_0/ring");
    MapsLine anon = MapsLine.parse("7ffd1000-7ffd2000 rw-p 00000000 00:00 0                          [stack]");
    assertThat(anon.id()).isNull();
    assertThat(anon.path()).isNull();
    assertThat(MapsLine.parse("garbage")).isNull();
  }

  @Test
  void stDevDecodesLikeGlibcMajorMinor() {
    assertThat(FileId.of(0x801, 7)).isEqualTo(new FileId(8, 1, 7));
    assertThat(FileId.of(0x1a, 7)).isEqualTo(new FileId(0, 0x1a, 7));
    // major 259, minor 0x12345: ((259 & 0xfff) << 8) | ((0x12345 & ~0xff) << 12) | (0x12345 & 0xff)
    long dev = (259L << 8) | ((0x12345L & ~0xffL) << 12) | (0x12345L & 0xff);
    assertThat(FileId.of(dev, 7)).isEqualTo(new FileId(259, 0x12345, 7));
  }

  @Test
  void targetMatchesItselfAndPathsBelowOnly() {
    var t = new OpenFileUsers.Target("/dev/shm/sharedipc/t_g_1", java.util.Set.of());
    assertThat(t.containsPath("/dev/shm/sharedipc/t_g_1")).isTrue();
    assertThat(t.containsPath("/dev/shm/sharedipc/t_g_1/f")).isTrue();
    assertThat(t.containsPath("/dev/shm/sharedipc/t_g_10/f")).isFalse();
  }
}
