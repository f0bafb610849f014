package dev.sharedipc.agent.scan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.agent.scan.OpenFileUsers.FileId;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The byte-level reading of /proc/PID/maps that the users index joins on. */
class FileUsersIndexTest {
  static final String MAPS =
      """
      55d0c6a00000-55d0c6a02000 r--p 00000000 fd:01 1835101                    /usr/bin/sleep
      7f1c2c000000-7f1c2c021000 rw-p 00000000 00:00 0
      7f1c2c400000-7f1c2c410000 rw-s 00000000 00:1a 42                         /dev/shm/torch_1234_0
      7f1c2c500000-7f1c2c510000 rw-s 00000000 00:1a 43                         /dev/shm/nccl-ring (deleted)
      7f1c2c600000-7f1c2c610000 rw-s 00000000 103:0c 7                         /data/big
      7ffd8b7e1000-7ffd8b802000 rw-p 00000000 00:00 0                          [stack]
      not a maps line at all
      7f1c2c700000-7f1c2c710000 rw-s 00000000 zz:1a 44                         /dev/shm/bad-device
      """;

  static List<FileId> mapped(byte[] text) {
    List<FileId> out = new ArrayList<>();
    FileUsersIndex.mappedFiles(
        text, (device, inode) -> out.add(new FileId(device >>> 32, device & 0xffffffffL, inode)));
    return out;
  }

  @Test
  void fileMappingsAreReadOffTheBytesAndAnonymousOnesSkipped() {
    assertThat(mapped(MAPS.getBytes(StandardCharsets.US_ASCII)))
        .containsExactly(
            new FileId(0xfd, 0x01, 1835101),
            new FileId(0, 0x1a, 42),
            new FileId(0, 0x1a, 43),
            new FileId(0x103, 0x0c, 7));
  }

  @Test
  void itReadsTheSameFilesAsAPlainSplitOfThisProcesssRealMaps() throws Exception {
    byte[] real = Files.readAllBytes(Path.of("/proc/self/maps"));
    Set<FileId> byLines = new HashSet<>();
    for (String line : new String(real, StandardCharsets.US_ASCII).split("\n")) {
      // address perms offset MM:mm inode [path], split the plain way
      String[] f = line.trim().split("\\s+", 6);
      long inode = Long.parseLong(f[4]);
      if (inode != 0) {
        String[] dev = f[3].split(":");
        byLines.add(new FileId(Long.parseLong(dev[0], 16), Long.parseLong(dev[1], 16), inode));
      }
    }
    assertThat(byLines).isNotEmpty();
    assertThat(new HashSet<>(mapped(real))).isEqualTo(byLines);
  }
}
