package dev.sharedipc.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sharedipc.agent.attribution.Attribution;
import dev.sharedipc.agent.attribution.PodInfo;
import dev.sharedipc.agent.reap.Action;
import dev.sharedipc.agent.reap.Decision;
import dev.sharedipc.agent.scan.IpcNamespace;
import dev.sharedipc.agent.scan.MemoryVolume;
import dev.sharedipc.agent.scan.MessageQueue;
import dev.sharedipc.agent.scan.PosixQueue;
import dev.sharedipc.agent.scan.Segment;
import dev.sharedipc.agent.scan.SemaphoreSet;
import dev.sharedipc.agent.survey.Attributed;
import dev.sharedipc.agent.survey.Finding;
import dev.sharedipc.agent.survey.Findings;
import dev.sharedipc.agent.survey.IpcObjects;
import dev.sharedipc.agent.survey.NamespaceFinding;
import dev.sharedipc.agent.verdict.Judgement;
import dev.sharedipc.agent.verdict.Liveness;
import dev.sharedipc.agent.verdict.Policy;
import dev.sharedipc.agent.verdict.Verdict;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RenderTest {
  static final Finding ORPHAN =
      new Finding(
          new Segment(
              4026532001L,
              0x1234,
              32769,
              0600,
              1536,
              10,
              11,
              0,
              1000,
              1000,
              1000,
              1000,
              0,
              0,
              1_700_000_000L,
              1536,
              0),
          new Attribution(
              Attribution.Source.POD_NAMESPACE,
              "uid-1",
              new PodInfo("uid-1", "team", "writer-0", "g", 0),
              "ns"),
          new Liveness(false, false),
          Policy.UNKNOWN,
          new Judgement(Verdict.Orphaned, "orphaned: kept"));
  static final Finding UNKNOWN =
      new Finding(
          new Segment(4026531839L, 0, 5, 0666, 64L << 20, 20, 20, 2, 0, 0, 0, 0, 1, 2, 3, -1, -1),
          Attribution.none("host"),
          new Liveness(true, false),
          Policy.UNKNOWN,
          new Judgement(Verdict.InUse, "2 attachments"));
  static final Findings FINDINGS =
      new Findings(
          Instant.parse("2026-01-01T00:00:00Z"),
          Duration.ofMillis(5),
          List.of(),
          List.of(ORPHAN, UNKNOWN),
          List.of(
              new MemoryVolume(
                  MemoryVolume.Kind.EmptyDir,
                  "shm",
                  "/var/lib/kubelet/pods/uid-1/volumes/x/shm",
                  "uid-1",
                  512L << 20,
                  128L << 20)),
          null,
          List.of(),
          0);

  @Test
  void sharedDirectoriesShowTheirInstanceInTableAndJson() throws Exception {
    MemoryVolume v =
        new MemoryVolume(
            MemoryVolume.Kind.NodeShared,
            "team_g_2",
            "/dev/shm/sharedipc/team_g_2",
            null,
            1L << 30,
            1L << 20,
            "team",
            "g",
            null,
            2);
    String table = Render.volumeTable(List.of(v));
    assertThat(table.lines().toList().get(0)).contains("GROUP").contains("INSTANCE");
    assertThat(table.lines().toList().get(1))
        .contains("team/g")
        .contains(" 2 ")
        .contains("/dev/shm/sharedipc/team_g_2");
    JsonNode json = new ObjectMapper().readTree(Render.write(Render.volumeJson(v)));
    assertThat(json.get("podNamespace").asText()).isEqualTo("team");
    assertThat(json.get("group").asText()).isEqualTo("g");
    assertThat(json.get("instance").asInt()).isEqualTo(2);
    JsonNode none =
        new ObjectMapper().readTree(Render.write(Render.volumeJson(FINDINGS.volumes().get(0))));
    assertThat(none.get("instance").isNull()).isTrue();
  }

  @Test
  void sizesAreHumanLikeUtilLinux() {
    assertThat(Sizes.human(0)).isEqualTo("0B");
    assertThat(Sizes.human(1023)).isEqualTo("1023B");
    assertThat(Sizes.human(1024)).isEqualTo("1K");
    assertThat(Sizes.human(1536)).isEqualTo("1.5K");
    assertThat(Sizes.human(64L << 20)).isEqualTo("64M");
    assertThat(Sizes.human((1L << 30) - 1)).isEqualTo("1G");
    assertThat(Sizes.human(-1)).isEqualTo("-");
  }

  @Test
  void scanTableHasAlignedColumnsUnderAHeaderSortedByNamespace() {
    String out = Render.scanTable(FINDINGS);
    List<String> lines = out.lines().skip(1).toList();
    assertThat(out.lines().findFirst()).hasValue("------ Shared memory segments ------");
    assertThat(lines.get(0))
        .isEqualTo(
            "IPCNS       KEY         SHMID  PERMS  OWNER  SIZE   RSS  NATTCH  CPID  LPID  POD            GROUP   VERDICT   REASON");
    assertThat(lines.get(1))
        .isEqualTo(
            "4026531839  0x00000000      5  666        0   64M     -       2    20    20  -              -       InUse     2 attachments");
    assertThat(lines.get(2))
        .isEqualTo(
            "4026532001  0x00001234  32769  600     1000  1.5K  1.5K       0    10    11  team/writer-0  team/g  Orphaned  orphaned: kept");
    int shmidEnd = lines.get(0).indexOf("SHMID") + "SHMID".length();
    assertThat(lines.get(1).charAt(shmidEnd - 1))
        .isEqualTo('5'); // numbers right-aligned under their header
    assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("KIND      SIZE  USED  USE%  POD"));
    assertThat(lines)
        .anySatisfy(l -> assertThat(l).startsWith("EmptyDir  512M  128M   25%  uid-1"));
    assertThat(lines).allSatisfy(l -> assertThat(l).doesNotEndWith(" "));
  }

  @Test
  void jsonCarriesTheSameFieldsWithBytesAndNullForUnknown() throws Exception {
    JsonNode root = new ObjectMapper().readTree(Render.scanJson(FINDINGS));
    JsonNode first = root.get("segments").get(0);
    assertThat(first.get("ipcNamespace").asLong()).isEqualTo(4026531839L);
    assertThat(first.get("podUid").isNull()).isTrue();
    assertThat(first.get("rssBytes").isNull()).isTrue();
    JsonNode orphan = root.get("segments").get(1);
    assertThat(orphan.get("shmid").asInt()).isEqualTo(32769);
    assertThat(orphan.get("key").asText()).isEqualTo("0x00001234");
    assertThat(orphan.get("bytes").asLong()).isEqualTo(1536);
    assertThat(orphan.get("nattch").asLong()).isZero();
    assertThat(orphan.get("cpid").asInt()).isEqualTo(10);
    assertThat(orphan.get("lpid").asInt()).isEqualTo(11);
    assertThat(orphan.get("podUid").asText()).isEqualTo("uid-1");
    assertThat(orphan.get("verdict").asText()).isEqualTo("Orphaned");
    assertThat(orphan.get("reason").asText()).isEqualTo("orphaned: kept");
    assertThat(orphan.get("ctime").asText()).isEqualTo("2023-11-14T22:13:20Z");
    assertThat(root.get("memoryVolumes").get(0).get("usedBytes").asLong()).isEqualTo(128L << 20);
  }

  static final Attribution POD_1 = ORPHAN.attribution();
  static final Findings WITH_OBJECTS =
      new Findings(
          FINDINGS.scannedAt(),
          FINDINGS.duration(),
          List.of(
              new NamespaceFinding(
                  new IpcNamespace(4026532001L, false, List.of(10), List.of()), POD_1, null),
              new NamespaceFinding(
                  new IpcNamespace(4026531839L, true, List.of(1), List.of()),
                  Attribution.none("host"),
                  null)),
          FINDINGS.segments(),
          FINDINGS.volumes(),
          null,
          List.of(),
          0,
          new IpcObjects(
              List.of(
                  new Attributed<>(
                      new SemaphoreSet(
                          4026532001L,
                          0xcafe,
                          7,
                          0600,
                          3,
                          1000,
                          1001,
                          1000,
                          1001,
                          0,
                          1_700_000_000L),
                      POD_1),
                  new Attributed<>(
                      new SemaphoreSet(4026531839L, 0x1, 0, 0644, 1, 0, 0, 0, 0, 0, 1_700_000_000L),
                      Attribution.none("host"))),
              List.of(
                  new Attributed<>(
                      new MessageQueue(
                          4026532001L,
                          0xbeef,
                          3,
                          0600,
                          4096,
                          3,
                          812,
                          815,
                          1000,
                          1001,
                          1000,
                          1001,
                          1_700_000_100L,
                          1_700_000_101L,
                          1_700_000_000L),
                      POD_1)),
              List.of(
                  new Attributed<>(
                      new PosixQueue(
                          4026532001L,
                          "/orders",
                          1000,
                          1001,
                          0100600,
                          100,
                          1_700_000_000L,
                          1_700_000_000L,
                          "/proc/10/root/dev/mqueue/orders"),
                      POD_1)),
              Map.of(
                  4026531839L,
                  "POSIX message queues of ipc:[4026531839] are unknown: none of the 1 process(es) tried shows an "
                      + "mqueue filesystem at /dev/mqueue")));

  @Test
  void scanShowsEveryKindAsAnIpcsSectionWithItsPod() {
    String out = Render.scanTable(WITH_OBJECTS);
    assertThat(out.lines().filter(l -> l.startsWith("------")))
        .containsExactly(
            "------ Shared memory segments ------",
            "------ Semaphore sets ------",
            "------ Message queues ------",
            "------ POSIX message queues ------",
            "------ Memory volumes ------",
            "------ POSIX shared-memory objects ------");
    assertThat(out)
        .contains(
            "IPCNS       KEY         SEMID  PERMS  OWNER  NSEMS  LAST-OP  CHANGED              POD            GROUP\n"
                + "4026531839  0x00000001      0  644        0      1  -        2023-11-14 22:13:20  -              -\n"
                + "4026532001  0x0000cafe      7  600     1000      3  -        2023-11-14 22:13:20  team/writer-0  team/g\n");
    assertThat(out)
        .contains(
            "4026532001  0x0000beef      3  600     1000    4K     3    812    815  2023-11-14 22:13:20  team/writer-0  team/g");
    assertThat(out)
        .contains(
            "4026532001  /orders  600     1000    100B  2023-11-14 22:13:20  team/writer-0  team/g");
    assertThat(out)
        .contains("4026531839  -    POSIX message queues of ipc:[4026531839] are unknown");
    assertThat(out.lines()).allSatisfy(l -> assertThat(l).doesNotEndWith(" "));
  }

  @Test
  void jsonHasTheSameFieldsAsTheTablesPerKind() throws Exception {
    JsonNode root = new ObjectMapper().readTree(Render.scanJson(WITH_OBJECTS));
    JsonNode set = root.get("semaphoreSets").get(1);
    assertThat(set.get("semid").asInt()).isEqualTo(7);
    assertThat(set.get("key").asText()).isEqualTo("0x0000cafe");
    assertThat(set.get("nsems").asLong()).isEqualTo(3);
    assertThat(set.get("otime").isNull()).isTrue();
    assertThat(set.get("ctime").asText()).isEqualTo("2023-11-14T22:13:20Z");
    assertThat(set.get("pod").get("name").asText()).isEqualTo("writer-0");
    assertThat(set.get("group").asText()).isEqualTo("team/g");
    assertThat(set.get("instance").asInt()).isZero();
    assertThat(root.get("semaphoreSets").get(0).get("pod").isNull()).isTrue();
    JsonNode q = root.get("messageQueues").get(0);
    assertThat(q.get("queuedBytes").asLong()).isEqualTo(4096);
    assertThat(q.get("messages").asLong()).isEqualTo(3);
    assertThat(q.get("lastSendPid").asInt()).isEqualTo(812);
    assertThat(q.get("pod").get("uid").asText()).isEqualTo("uid-1");
    JsonNode p = root.get("posixMessageQueues").get(0);
    assertThat(p.get("name").asText()).isEqualTo("/orders");
    assertThat(p.get("queuedBytes").asLong()).isEqualTo(100);
    assertThat(root.get("posixMessageQueuesUnknown").get(0).get("ipcNamespace").asLong())
        .isEqualTo(4026531839L);
    assertThat(root.get("posixMessageQueuesUnknown").get(0).get("reason").asText())
        .contains("unknown");
    assertThat(root.get("ipcNamespaces").get(1).get("posixMessageQueuesUnknown").asText())
        .contains("unknown");
    assertThat(root.get("ipcNamespaces").get(0).get("posixMessageQueuesUnknown").isNull()).isTrue();
  }

  @Test
  void filtersByKindPodAndGroup() throws Exception {
    ScanFilter semaphoresOfG = ScanFilter.of(List.of("semaphores"), null, "team/g");
    JsonNode root = new ObjectMapper().readTree(Render.scanJson(WITH_OBJECTS, semaphoresOfG));
    assertThat(root.has("segments") || root.has("messageQueues") || root.has("memoryVolumes"))
        .isFalse();
    assertThat(root.get("semaphoreSets")).hasSize(1);
    assertThat(root.get("semaphoreSets").get(0).get("semid").asInt()).isEqualTo(7);
    assertThat(root.get("ipcNamespaces")).hasSize(1);

    String table =
        Render.scanTable(
            WITH_OBJECTS, ScanFilter.of(List.of("segments,queues"), "team/writer-0", null));
    assertThat(table.lines().filter(l -> l.startsWith("------")))
        .containsExactly(
            "------ Shared memory segments ------",
            "------ Message queues ------",
            "------ POSIX message queues ------");
    assertThat(table)
        .contains("32769")
        .doesNotContain("64M")
        .contains("/orders")
        .doesNotContain("POSIX QUEUES UNKNOWN");
    assertThat(ScanFilter.of(List.of("posix"), "uid-1", null).shows(ScanFilter.Kind.posix))
        .isTrue();
    assertThat(ScanFilter.of(null, null, null)).isEqualTo(ScanFilter.ALL);
    assertThatThrownBy(() -> ScanFilter.of(List.of("segments,sems"), null, null))
        .hasMessage(
            "unknown --kind 'sems': use one or more of segments, semaphores, queues, volumes, posix");
    assertThatThrownBy(() -> ScanFilter.of(List.of(), null, "g"))
        .hasMessageContaining("NAMESPACE/NAME");
  }

  @Test
  void reapTableShowsEveryDecisionWithItsAction() {
    String out =
        Render.reapTable(
            List.of(
                new Decision(ORPHAN, Action.Kept, "orphaned: kept"),
                new Decision(UNKNOWN, Action.Kept, "2 attachments")));
    assertThat(out.lines()).hasSize(3);
    assertThat(out.lines().toList().get(0)).contains("VERDICT", "ACTION", "REASON");
    assertThat(out).contains("Orphaned  Kept    orphaned: kept");
  }
}
