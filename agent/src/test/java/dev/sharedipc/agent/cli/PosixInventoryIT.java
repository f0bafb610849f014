package dev.sharedipc.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sharedipc.agent.attribution.Ledger;
import dev.sharedipc.agent.attribution.PodDirectory;
import dev.sharedipc.agent.kernel.LinuxKernel;
import dev.sharedipc.agent.reap.Action;
import dev.sharedipc.agent.reap.PosixObjectReaper;
import dev.sharedipc.agent.scan.NamespaceCollector;
import dev.sharedipc.agent.survey.Findings;
import dev.sharedipc.agent.survey.Survey;
import dev.sharedipc.agent.testing.ReadableProc;
import dev.sharedipc.agent.testing.Root;
import dev.sharedipc.agent.verdict.Policy;
import dev.sharedipc.agent.verdict.PolicyResolver;
import dev.sharedipc.api.v1alpha1.OrphanPolicy;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * POSIX objects through a whole pass on the real kernel, as the CLI prints and reaps them: a pod's
 * memory emptyDir (a real tmpfs under a fixture kubelet root) holds one file mapped by a live
 * process, one held open, one just written and one orphan (idle for an hour), plus a symbolic link
 * out of the volume; a second tmpfs stands for the host's /dev/shm with an idle file of its own.
 * {@code scan --json} lists the four with their pod and who uses them; a reap under Delete with a
 * one-minute grace removes exactly the orphan (nothing in a dry run); the link's target and the
 * host's file stay.
 *
 * <p>Runs the survey in process rather than the jar: the users of files are read under a view of
 * /proc without the processes this sandbox hides even from root (its pid 1), which would otherwise
 * make every user unknown and keep everything (as it should).
 */
class PosixInventoryIT {
  static final String POD = "d0000000-0000-4000-8000-00000000000d";
  @TempDir Path tmp;
  Path volume;
  Path hostShm;
  final List<Process> started = new ArrayList<>();

  @BeforeEach
  void mounts() throws Exception {
    Root.require();
    Root.requireTool("mount");
    Root.requireTool("python3");
    volume =
        Files.createDirectories(
            tmp.resolve("kubelet/pods/" + POD + "/volumes/kubernetes.io~empty-dir/shm"));
    run("mount", "-t", "tmpfs", "-o", "size=16m", "sharedipc-posix-cli-it", volume.toString());
    hostShm = Files.createDirectories(tmp.resolve("host-shm"));
    run("mount", "-t", "tmpfs", "-o", "size=1m", "sharedipc-host-shm-it", hostShm.toString());
  }

  @AfterEach
  void cleanUp() throws Exception {
    for (Process p : started) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
    String mounts = Files.readString(Path.of("/proc/self/mountinfo"));
    for (Path m : new Path[] {volume, hostShm}) {
      if (m != null && mounts.contains(" " + m.toRealPath() + " ")) {
        run("umount", m.toString());
      }
    }
  }

  @Test
  void scanListsFourObjectsWithPodAndUsersAndReapRemovesOnlyTheOrphan() throws Exception {
    Instant hourAgo = Instant.now().minus(Duration.ofHours(1));
    Path mapped = idle(write(volume, "torch_1234_0", 64 * 1024), hourAgo);
    Path held = idle(write(volume, "PostgreSQL.1804289383", 8 * 1024), hourAgo);
    Path fresh = write(volume, "nccl-ring-0", 4096);
    Path orphan = idle(write(volume, "vllm-leaked", 128 * 1024), hourAgo);
    Path outside = Files.writeString(tmp.resolve("precious"), "must survive");
    Files.createSymbolicLink(volume.resolve("link-out"), outside);
    Path hostFile = idle(write(hostShm, "sem.host-daemon", 4096), hourAgo);
    Process mapper =
        start(
            "python3",
            "-c",
            "import ctypes,os,sys,time\n"
                + "libc=ctypes.CDLL(None); libc.mmap.restype=ctypes.c_void_p\n"
                + "libc.mmap.argtypes=[ctypes.c_void_p,ctypes.c_size_t,ctypes.c_int,ctypes.c_int,ctypes.c_int,ctypes.c_long]\n"
                + "fd=os.open(sys.argv[1],os.O_RDWR); addr=libc.mmap(None,65536,3,1,fd,0); os.close(fd)\n"
                + "print('ready',flush=True); time.sleep(600)",
            mapped.toString());
    Process holder =
        start("sh", "-c", "exec 3<\"$0\"; echo ready; exec sleep 600", held.toString());

    Findings findings = survey();
    JsonNode objects = new ObjectMapper().readTree(Render.scanJson(findings)).get("posixObjects");
    Map<String, JsonNode> byName = new HashMap<>();
    objects.forEach(o -> byName.put(o.get("name").asText(), o));
    assertThat(byName)
        .containsOnlyKeys(
            "torch_1234_0",
            "PostgreSQL.1804289383",
            "nccl-ring-0",
            "vllm-leaked",
            "link-out",
            "sem.host-daemon");
    for (String name :
        List.of("torch_1234_0", "PostgreSQL.1804289383", "nccl-ring-0", "vllm-leaked")) {
      assertThat(byName.get(name).get("podUid").asText()).isEqualTo(POD);
      assertThat(byName.get(name).get("volumeKind").asText()).isEqualTo("EmptyDir");
    }
    assertThat(byName.get("torch_1234_0").get("mappedPids"))
        .extracting(JsonNode::asLong)
        .containsExactly(mapper.pid());
    assertThat(byName.get("torch_1234_0").get("inUse").asBoolean()).isTrue();
    assertThat(byName.get("PostgreSQL.1804289383").get("openPids"))
        .extracting(JsonNode::asLong)
        .containsExactly(holder.pid());
    assertThat(byName.get("vllm-leaked").get("inUse").asBoolean()).isFalse();
    assertThat(byName.get("vllm-leaked").get("allocatedBytes").asLong()).isEqualTo(128 * 1024);
    assertThat(byName.get("vllm-leaked").get("verdict").asText()).isEqualTo("Remove");
    assertThat(byName.get("nccl-ring-0").get("verdict").asText()).isEqualTo("WithinGrace");
    assertThat(byName.get("link-out").get("fileKind").asText()).isEqualTo("SymbolicLink");
    assertThat(byName.get("sem.host-daemon").get("volumeKind").asText()).isEqualTo("HostShm");
    assertThat(byName.get("sem.host-daemon").get("verdict").asText()).isEqualTo("Host");
    assertThat(Render.scanTable(findings)).contains("POSIX OBJECT").contains("vllm-leaked");

    Path readable = ReadableProc.view(tmp);
    List<PosixObjectReaper.Decision> dry =
        new PosixObjectReaper(List.of(readable), true).reap(findings.posix(), Instant.now());
    assertThat(dry)
        .filteredOn(d -> d.action() != Action.Kept)
        .singleElement()
        .satisfies(d -> assertThat(d.action()).isEqualTo(Action.WouldRemove));
    assertThat(orphan).exists();

    List<PosixObjectReaper.Decision> done =
        new PosixObjectReaper(List.of(readable), false).reap(survey().posix(), Instant.now());
    assertThat(done)
        .filteredOn(d -> d.action() != Action.Kept)
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.object().name()).isEqualTo("vllm-leaked");
              assertThat(d.action()).isEqualTo(Action.Removed);
            });
    assertThat(orphan).doesNotExist();
    assertThat(List.of(mapped, held, fresh, hostFile)).allSatisfy(p -> assertThat(p).exists());
    assertThat(outside).hasContent("must survive");
    JsonNode reapJson =
        new ObjectMapper()
            .readTree(Render.reapJson(findings, List.of(), List.of(), done, false))
            .get("posixObjects");
    assertThat(reapJson)
        .anySatisfy(
            o -> {
              assertThat(o.get("name").asText()).isEqualTo("vllm-leaked");
              assertThat(o.get("action").asText()).isEqualTo("Removed");
            });
  }

  @Test
  void aDevShmThatTwoPodsSeeBelongsToNeitherAndIsNeverReaped() throws Exception {
    Path root = tmp.resolve("shared-root");
    Path shm = Files.createDirectories(root.resolve("dev/shm"));
    run("mount", "-t", "tmpfs", "-o", "size=1m", "sharedipc-two-pods-it", shm.toString());
    try {
      Path leaked = idle(write(shm, "nccl-leaked", 4096), Instant.now().minus(Duration.ofHours(1)));
      // two pods whose processes see one /dev/shm (as two hostIPC pods see the node's): neither may
      // have it removed
      Path procRoot = Files.createDirectories(tmp.resolve("two-pods-proc"));
      new dev.sharedipc.agent.testing.ProcFixture(procRoot)
          .process(
              101,
              4026530001L,
              dev.sharedipc.agent.testing.ProcFixture.podCgroup(
                  "a0000000-0000-4000-8000-00000000000a"))
          .process(
              102,
              4026530002L,
              dev.sharedipc.agent.testing.ProcFixture.podCgroup(
                  "b0000000-0000-4000-8000-00000000000b"));
      Files.createSymbolicLink(procRoot.resolve("101/root"), root);
      Files.createSymbolicLink(procRoot.resolve("102/root"), root);
      Survey.Config config =
          new Survey.Config(
              procRoot,
              ReadableProc.view(tmp),
              NamespaceCollector.nsInode(Path.of("/proc/self/ns/ipc")),
              tmp.resolve("no-kubelet"),
              tmp.resolve("no-shared-root"),
              null);
      Findings findings =
          new Survey(
                  config,
                  new LinuxKernel(),
                  PodDirectory.OFFLINE,
                  Ledger.inMemory(),
                  PolicyResolver.fixed(
                      new Policy(OrphanPolicy.Delete, Duration.ofMinutes(1), "--policy Delete")),
                  Clock.systemUTC())
              .run();

      assertThat(findings.posix().objects())
          .singleElement()
          .satisfies(
              o -> {
                assertThat(o.podsOfVolume()).isEqualTo(2);
                assertThat(o.judgement().verdict())
                    .isEqualTo(dev.sharedipc.agent.verdict.PosixObjectVerdict.Unattributed);
                assertThat(o.judgement().reason()).contains("shared by 2 pods");
              });
      assertThat(
              new PosixObjectReaper(List.of(ReadableProc.view(tmp)), false)
                  .reap(findings.posix(), Instant.now()))
          .allSatisfy(d -> assertThat(d.action()).isEqualTo(Action.Kept));
      assertThat(leaked).exists();
    } finally {
      run("umount", shm.toString());
    }
  }

  /** A pass as `reap --policy Delete --grace 1m --kubelet-root ... --host-shm ...` makes it. */
  private Findings survey() throws Exception {
    Path procRoot = Files.createDirectories(tmp.resolve("no-processes"));
    Survey.Config config =
        new Survey.Config(
            procRoot,
            ReadableProc.view(tmp),
            NamespaceCollector.nsInode(Path.of("/proc/self/ns/ipc")),
            tmp.resolve("kubelet"),
            tmp.resolve("no-shared-root"),
            hostShm);
    return new Survey(
            config,
            new LinuxKernel(),
            PodDirectory.OFFLINE,
            Ledger.inMemory(),
            PolicyResolver.fixed(
                new Policy(OrphanPolicy.Delete, Duration.ofMinutes(1), "--policy Delete")),
            Clock.systemUTC())
        .run();
  }

  private static Path write(Path dir, String name, int bytes) throws Exception {
    return Files.write(dir.resolve(name), new byte[bytes]);
  }

  private static Path idle(Path p, Instant since) throws Exception {
    Files.setLastModifiedTime(p, FileTime.from(since));
    return p;
  }

  private Process start(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    started.add(p);
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    assertThat(out.readLine()).as("%s started", List.of(cmd)).isEqualTo("ready");
    return p;
  }

  private static void run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("%s: %s", List.of(cmd), out).isZero();
  }
}
