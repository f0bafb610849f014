package dev.sharedipc.agent.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sharedipc.agent.testing.RealNamespaces;
import dev.sharedipc.agent.testing.Root;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JNA bindings against the real kernel and the C headers, inside a namespace of the test's own.
 */
class KernelIT {
  RealNamespaces real;
  RealNamespaces.Ns ns;
  final LinuxKernel kernel = new LinuxKernel();

  @BeforeEach
  void ownNamespace() throws Exception {
    real = new RealNamespaces();
    ns = real.newNamespace();
  }

  @AfterEach
  void cleanUp() throws Exception {
    real.close();
  }

  @Test
  void structLayoutsMatchTheCHeaders(@TempDir Path dir) throws Exception {
    Root.requireTool("gcc");
    Path c = dir.resolve("layout.c");
    Files.writeString(
        c,
        """
        #include <stdio.h>
        #include <stddef.h>
        #include <sys/shm.h>
        #include <sys/vfs.h>
        #include <sys/stat.h>
        #define P(name, value) printf("%s %zu\\n", name, (size_t)(value))
        int main(void) {
          P("SHMID_DS_SIZE", sizeof(struct shmid_ds));
          P("SHM_PERM_KEY", offsetof(struct shmid_ds, shm_perm.__key));
          P("SHM_PERM_UID", offsetof(struct shmid_ds, shm_perm.uid));
          P("SHM_PERM_GID", offsetof(struct shmid_ds, shm_perm.gid));
          P("SHM_PERM_CUID", offsetof(struct shmid_ds, shm_perm.cuid));
          P("SHM_PERM_CGID", offsetof(struct shmid_ds, shm_perm.cgid));
          P("SHM_PERM_MODE", offsetof(struct shmid_ds, shm_perm.mode));
          P("SHM_SEGSZ", offsetof(struct shmid_ds, shm_segsz));
          P("SHM_ATIME", offsetof(struct shmid_ds, shm_atime));
          P("SHM_DTIME", offsetof(struct shmid_ds, shm_dtime));
          P("SHM_CTIME", offsetof(struct shmid_ds, shm_ctime));
          P("SHM_CPID", offsetof(struct shmid_ds, shm_cpid));
          P("SHM_LPID", offsetof(struct shmid_ds, shm_lpid));
          P("SHM_NATTCH", offsetof(struct shmid_ds, shm_nattch));
          P("SHMINFO_SIZE", sizeof(struct shminfo));
          P("SHMINFO_SHMMAX", offsetof(struct shminfo, shmmax));
          P("SHMINFO_SHMMNI", offsetof(struct shminfo, shmmni));
          P("SHMINFO_SHMALL", offsetof(struct shminfo, shmall));
          P("SHM_INFO_SIZE", sizeof(struct shm_info));
          P("SHM_INFO_USED_IDS", offsetof(struct shm_info, used_ids));
          P("SHM_INFO_TOT", offsetof(struct shm_info, shm_tot));
          P("SHM_INFO_RSS", offsetof(struct shm_info, shm_rss));
          P("SHM_INFO_SWP", offsetof(struct shm_info, shm_swp));
          P("STATFS_SIZE", sizeof(struct statfs));
          P("STATFS_TYPE", offsetof(struct statfs, f_type));
          P("STATFS_BSIZE", offsetof(struct statfs, f_bsize));
          P("STATFS_BLOCKS", offsetof(struct statfs, f_blocks));
          P("STATFS_BFREE", offsetof(struct statfs, f_bfree));
          P("STATFS_BAVAIL", offsetof(struct statfs, f_bavail));
          P("STATFS_FRSIZE", offsetof(struct statfs, f_frsize));
          P("STAT_SIZE", sizeof(struct stat));
          P("ST_DEV", offsetof(struct stat, st_dev)); P("ST_INO", offsetof(struct stat, st_ino));
          P("ST_MODE", offsetof(struct stat, st_mode)); P("ST_UID", offsetof(struct stat, st_uid));
          P("ST_GID", offsetof(struct stat, st_gid)); P("ST_SIZE", offsetof(struct stat, st_size));
          P("ST_BLOCKS", offsetof(struct stat, st_blocks)); P("ST_MTIM", offsetof(struct stat, st_mtim));
          P("ST_CTIM", offsetof(struct stat, st_ctim));
          P("IPC_STAT", IPC_STAT); P("IPC_INFO", IPC_INFO); P("SHM_STAT", SHM_STAT); P("SHM_INFO", SHM_INFO);
          P("SHM_STAT_ANY", SHM_STAT_ANY); P("IPC_RMID", IPC_RMID); P("IPC_CREAT", IPC_CREAT); P("SHM_DEST", SHM_DEST);
          return 0;
        }
        """);
    Process gcc =
        new ProcessBuilder(
                "gcc", "-D_GNU_SOURCE", "-o", dir.resolve("layout").toString(), c.toString())
            .redirectErrorStream(true)
            .start();
    String gccOut = new String(gcc.getInputStream().readAllBytes());
    assertThat(gcc.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(gcc.exitValue()).as(gccOut).isZero();
    Process run = new ProcessBuilder(dir.resolve("layout").toString()).start();
    Map<String, Long> c_ = new HashMap<>();
    for (String line : new String(run.getInputStream().readAllBytes()).split("\n")) {
      String[] kv = line.split(" ");
      c_.put(kv[0], Long.parseLong(kv[1]));
    }
    Map<String, Long> java = new HashMap<>();
    for (var field : Layout.class.getDeclaredFields()) {
      if (field.getType() == int.class && c_.containsKey(field.getName())) {
        java.put(field.getName(), (long) field.getInt(null));
      }
    }
    for (var field : AtFiles.class.getDeclaredFields()) {
      if (field.getType() == int.class && c_.containsKey(field.getName())) {
        java.put(field.getName(), (long) field.getInt(null));
      }
    }
    for (var field : LibC.class.getDeclaredFields()) {
      if (field.getType() == int.class && c_.containsKey(field.getName())) {
        java.put(field.getName(), (long) field.getInt(null));
      }
    }
    java.put("SHM_DEST", (long) ShmStat.SHM_DEST);
    assertThat(java).containsExactlyInAnyOrderEntriesOf(c_);
  }

  @Test
  void statListLimitsAndRemoveWorkInsideTheNamespaceAndNowhereElse() throws Exception {
    long host = LinuxKernel.currentThreadIpcInode();
    long before = System.currentTimeMillis() / 1000;

    Map<String, Object> seen =
        kernel.inIpcNamespace(
            ns.ref(),
            session -> {
              Map<String, Object> out = new HashMap<>();
              out.put("thread ns", LinuxKernel.currentThreadIpcInode());
              int shmid = Sysv.create(0x7e57, 12288, 0640);
              out.put("stat", Sysv.stat(shmid));
              out.put("statAny", Sysv.statIndex(shmid % 32768));
              out.put("limits", Sysv.limits());
              out.put(
                  "sysctl shmmax",
                  new String(LinuxKernel.readProcFile(Path.of("/proc/sys/kernel/shmmax"))).trim());
              out.put(
                  "sysctl shmall",
                  new String(LinuxKernel.readProcFile(Path.of("/proc/sys/kernel/shmall"))).trim());
              out.put("text", new String(session.readSysvShm()));
              session.remove(shmid);
              try {
                Sysv.stat(shmid);
              } catch (KernelException e) {
                out.put("after", e);
              }
              return out;
            });

    assertThat(LinuxKernel.currentThreadIpcInode())
        .as("the caller's thread never moved")
        .isEqualTo(host);
    assertThat(seen.get("thread ns")).isEqualTo(ns.inode());
    ShmStat stat = (ShmStat) seen.get("stat");
    assertThat(stat.key()).isEqualTo(0x7e57);
    assertThat(stat.bytes()).isEqualTo(12288);
    assertThat(stat.mode() & 0777).isEqualTo(0640);
    assertThat(stat.cpid()).isEqualTo((int) ProcessHandle.current().pid());
    assertThat(stat.nattch()).isZero();
    assertThat(stat.ctime()).isBetween(before - 1, before + 60);
    assertThat(seen.get("statAny")).isEqualTo(stat);
    ShmLimits limits = (ShmLimits) seen.get("limits");
    assertThat(limits.shmmni()).isPositive();
    assertThat(limits.shmmax())
        .as("unsigned in the kernel, exact here")
        .isPositive()
        .hasToString((String) seen.get("sysctl shmmax"));
    assertThat(limits.shmall()).isPositive().hasToString((String) seen.get("sysctl shmall"));
    assertThat(limits.usedIds()).isEqualTo(1);
    assertThat((String) seen.get("text")).contains(Integer.toString(0x7e57));
    assertThat(((KernelException) seen.get("after")).errno()).isEqualTo(LibC.EINVAL);
    assertThat(((KernelException) seen.get("after")).getMessage())
        .contains("shmctl(IPC_STAT", "EINVAL", "no longer exists");
    assertThat(real.shmids(ns)).isEmpty();
  }

  /**
   * A scan starts a visit per namespace at once (survey.Survey): they wait in line for the two
   * visitors, each lands where it is sent, and each outcome, a failure included, comes back to its
   * own future.
   */
  @Test
  void visitsStartedAtOnceRunTwoAtATimeAndEachGetsItsOwnOutcome() throws Exception {
    RealNamespaces.Ns other = real.newNamespace();
    java.util.concurrent.atomic.AtomicInteger running =
        new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger most =
        new java.util.concurrent.atomic.AtomicInteger();
    List<java.util.concurrent.CompletableFuture<Long>> visits = new java.util.ArrayList<>();
    for (int i = 0; i < 8; i++) {
      RealNamespaces.Ns target = i % 2 == 0 ? ns : other;
      boolean fails = i == 5;
      visits.add(
          kernel.startInIpcNamespace(
              target.ref(),
              s -> {
                most.accumulateAndGet(running.incrementAndGet(), Math::max);
                try {
                  Thread.sleep(30);
                  if (fails) {
                    throw new java.io.IOException("visit 5 failed");
                  }
                  return LinuxKernel.currentThreadIpcInode();
                } finally {
                  running.decrementAndGet();
                }
              }));
    }
    for (int i = 0; i < 8; i++) {
      if (i == 5) {
        assertThatThrownBy(visits.get(i)::get).hasRootCauseMessage("visit 5 failed");
      } else {
        assertThat(visits.get(i).get()).isEqualTo((i % 2 == 0 ? ns : other).inode());
      }
    }
    assertThat(most.get()).as("visits at once").isEqualTo(2);
    assertThat(threadsOfThisProcessIn(ns.inode())).isEmpty();
    assertThat(threadsOfThisProcessIn(other.inode())).isEmpty();
  }

  /**
   * Visitor threads are reused: after each visit, whether its work succeeded or threw, no thread of
   * the agent is left in the visited namespace, so none carries it into other work or keeps it
   * alive; the next visit still lands where it is sent.
   */
  @Test
  void everyVisitorReturnsToTheAgentsNamespace() throws Exception {
    long own = LinuxKernel.currentThreadIpcInode();
    RealNamespaces.Ns other = real.newNamespace();
    for (int i = 0; i < 4; i++) {
      RealNamespaces.Ns target = i % 2 == 0 ? ns : other;
      long visited =
          kernel.<Long>inIpcNamespace(target.ref(), s -> LinuxKernel.currentThreadIpcInode());
      assertThat(visited).isEqualTo(target.inode());
      assertThat(threadsOfThisProcessIn(target.inode()))
          .as("threads left in the namespace")
          .isEmpty();
      assertThatThrownBy(
              () ->
                  kernel.inIpcNamespace(
                      target.ref(),
                      s -> {
                        throw new java.io.IOException("the work failed");
                      }))
          .hasMessage("the work failed");
      assertThat(threadsOfThisProcessIn(target.inode()))
          .as("threads left in the namespace after failed work")
          .isEmpty();
    }
    assertThat(LinuxKernel.currentThreadIpcInode()).isEqualTo(own);
  }

  /** The threads of this JVM whose IPC namespace is {@code inode}. */
  private static List<String> threadsOfThisProcessIn(long inode) throws Exception {
    List<String> in = new java.util.ArrayList<>();
    try (var tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        try {
          String link = Files.readSymbolicLink(task.resolve("ns/ipc")).toString();
          if (LinuxKernel.parseNsLink(link) == inode) {
            in.add(task.getFileName() + " " + Files.readString(task.resolve("comm")).trim());
          }
        } catch (java.io.IOException gone) {
          // a thread that ended while listed
        }
      }
    }
    return in;
  }

  /** A visit that starts another visit is refused instead of waiting for a visitor forever. */
  @Test
  void aVisitCannotStartAnother() {
    assertThatThrownBy(
            () ->
                kernel.<Integer>inIpcNamespace(
                    ns.ref(), s -> kernel.<Integer>inIpcNamespace(ns.ref(), t -> 1)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("may not start another");
  }

  @Test
  void joiningThroughAFileOfAnotherNamespaceIsRefused() throws Exception {
    RealNamespaces.Ns other = real.newNamespace();
    NamespaceRef lying =
        new NamespaceRef(ns.inode(), List.of(Path.of("/proc/" + other.pid() + "/ns/ipc")));
    assertThatThrownBy(() -> kernel.inIpcNamespace(lying, s -> s.readSysvShm()))
        .isInstanceOf(NamespaceUnavailableException.class)
        .hasMessageContaining("now ipc:[" + other.inode() + "]");
  }

  @Test
  void statfsSeesTmpfs() throws Exception {
    assertThat(kernel.statfs(Path.of("/dev/shm")))
        .hasValueSatisfying(
            u -> {
              assertThat(u.memoryBacked()).isTrue();
              assertThat(u.sizeBytes()).isPositive();
            });
    assertThat(kernel.statfs(Path.of("/nonexistent/path"))).isEmpty();
  }
}
