package dev.sharedipc.agent.reap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.agent.verdict.SharedDirJudge.Dir;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Inspection of shared-root entries on plain temp files: what counts as safe to judge at all. */
class SharedDirReaperTest {
  @TempDir Path tmp;

  @Test
  void plainDirectoryUnderTheRootIsSafe() throws Exception {
    Path root = Files.createDirectory(tmp.resolve("root")).toRealPath();
    Path d = Files.createDirectory(root.resolve("team_g_1"));
    Dir dir = SharedDirReaper.inspect(root, d, Set.of("/"));
    assertThat(dir.unsafe()).isNull();
    assertThat(dir.owner()).isPresent();
  }

  @Test
  void symbolicLinkFileAndMountPointAreUnsafe() throws Exception {
    Path root = Files.createDirectory(tmp.resolve("root")).toRealPath();
    Path outside = Files.createDirectory(tmp.resolve("outside"));
    Path link = Files.createSymbolicLink(root.resolve("team_g_2"), outside);
    Path file = Files.createFile(root.resolve("team_g_3"));
    Path mounted = Files.createDirectory(root.resolve("team_g_4"));
    assertThat(SharedDirReaper.inspect(root, link, Set.of()).unsafe()).contains("symbolic link");
    assertThat(SharedDirReaper.inspect(root, file, Set.of()).unsafe()).contains("not a directory");
    assertThat(SharedDirReaper.inspect(root, mounted, Set.of(mounted + "/sub")).unsafe())
        .contains("mounted");
    assertThat(SharedDirReaper.inspect(root, mounted, Set.of(mounted.toString())).unsafe())
        .contains("mounted");
    assertThat(SharedDirReaper.inspect(root, mounted, null).unsafe()).contains("unknown");
  }

  @Test
  void mountinfoEscapesAreDecoded() {
    assertThat(SharedDirReaper.unescape("/dev/shm/a\\040b")).isEqualTo("/dev/shm/a b");
    assertThat(SharedDirReaper.unescape("/plain\\")).isEqualTo("/plain\\");
  }
}
