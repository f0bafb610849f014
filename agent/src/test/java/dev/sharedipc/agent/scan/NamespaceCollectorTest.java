package dev.sharedipc.agent.scan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.agent.testing.ProcFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NamespaceCollectorTest {
  @TempDir Path root;

  @Test
  void groupsPidsByNamespaceInodeAndMarksTheHost() throws Exception {
    new ProcFixture(root)
        .process(1, 4026531839L, ProcFixture.HOST_CGROUP)
        .process(300, 4026532001L, null)
        .process(200, 4026532001L, null)
        .process(400, 4026532002L, null);
    Files.createDirectories(root.resolve("self"));
    Files.createDirectories(root.resolve("sys"));
    Files.writeString(root.resolve("uptime"), "1 2");

    var namespaces = new NamespaceCollector(root, 4026531839L).collect();

    assertThat(namespaces)
        .extracting(IpcNamespace::inode)
        .containsExactly(4026531839L, 4026532001L, 4026532002L);
    assertThat(namespaces.get(0).host()).isTrue();
    assertThat(namespaces.get(1).host()).isFalse();
    assertThat(namespaces.get(1).pids()).containsExactly(200, 300);
    assertThat(namespaces.get(1).nsFiles())
        .containsExactly(root.resolve("200/ns/ipc"), root.resolve("300/ns/ipc"));
  }

  @Test
  void aPidThatVanishedOrIsNotANamespaceIsSkipped() throws Exception {
    new ProcFixture(root).process(10, 4026532001L, null);
    Files.createDirectories(root.resolve("11")); // exited between readdir and readlink: no ns/ipc
    Files.createDirectories(root.resolve("12/ns"));
    Files.createSymbolicLink(
        root.resolve("12/ns/ipc"), Path.of("net:[4026531840]")); // not an IPC namespace, dangling
    Files.createDirectories(root.resolve("13/ns"));
    Files.createSymbolicLink(root.resolve("13/ns/ipc"), Path.of("ipc:[garbage]"));

    var namespaces = new NamespaceCollector(root, 1).collect();

    assertThat(namespaces)
        .singleElement()
        .satisfies(ns -> assertThat(ns.pids()).containsExactly(10));
  }

  @Test
  void linksToRealNamespaceFilesAreFollowed() throws Exception {
    new ProcFixture(root).realNamespace(77, ProcessHandle.current().pid(), null);
    long real = NamespaceCollector.nsInode(Path.of("/proc/self/ns/ipc"));

    var namespaces = new NamespaceCollector(root, real).collect();

    assertThat(namespaces)
        .singleElement()
        .satisfies(
            ns -> {
              assertThat(ns.inode()).isEqualTo(real);
              assertThat(ns.host()).isTrue();
            });
  }
}
