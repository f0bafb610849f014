package dev.sharedipc.agent.scan;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SharedDirNameTest {
  @Test
  void operatorLayoutParsesIntoNamespaceGroupAndInstance() {
    assertThat(SharedDirName.parse("team-a_writer-pool_3"))
        .contains(new SharedDirName("team-a", "writer-pool", 3));
    assertThat(SharedDirName.parse("default_g_0")).contains(new SharedDirName("default", "g", 0));
    assertThat(SharedDirName.parse("ns1_grp.v2_12"))
        .contains(new SharedDirName("ns1", "grp.v2", 12));
  }

  static final String UID = "0b0e6b7e-3c55-4d2a-9a39-1f6c1d8e2a10";

  @Test
  void theNameWithTheGroupsUidParsesIntoNamespaceGroupUidAndInstance() {
    assertThat(SharedDirName.parse("team-a_writer-pool_" + UID + "_3"))
        .contains(new SharedDirName("team-a", "writer-pool", UID, 3));
    SharedDirName n = new SharedDirName("team-a", "g", UID, 41);
    assertThat(n.directoryName()).isEqualTo("team-a_g_" + UID + "_41");
    assertThat(SharedDirName.parse(n.directoryName())).contains(n);
    assertThat(n.groupKey()).isEqualTo("team-a/g");
  }

  @Test
  void theOldNameWithoutTheUidStillParsesWithNoUid() {
    assertThat(SharedDirName.parse("team-a_g_3"))
        .get()
        .extracting(SharedDirName::groupUid)
        .isNull();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "team_g_0B0E6B7E-3C55-4D2A-9A39-1F6C1D8E2A10_1", // upper case: not how the API server
        // writes uids
        "team_g_0b0e6b7e3c554d2a9a391f6c1d8e2a10_1",
        "team_g_not-a-uid_1",
        "team_g__1",
        "team_g_" + UID + "_01",
        "team_g_" + UID + "_1_2",
        "team_g_" + UID,
        "team_" + UID + "_g_1"
      })
  void aUidPartThatIsNotAUuidDoesNotParse(String name) {
    assertThat(SharedDirName.parse(name)).isEmpty();
  }

  @Test
  void directoryNameIsTheInverseOfParse() {
    SharedDirName n = new SharedDirName("team-a", "g", 41);
    assertThat(n.directoryName()).isEqualTo("team-a_g_41");
    assertThat(SharedDirName.parse(n.directoryName())).contains(n);
    assertThat(n.groupKey()).isEqualTo("team-a/g");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "lost+found",
        "team_g",
        "team_g_1_2",
        "team__1",
        "a_b_c_d_1",
        "_g_1",
        "team_g_", // wrong number of parts or empty parts
        "Team_g_1",
        "team_G_1",
        "team-_g_1",
        "-team_g_1",
        "team_g-_1",
        "te.am_g_1", // not Kubernetes names
        "team_g_01",
        "team_g_-1",
        "team_g_+1",
        "team_g_1a",
        "team_g_ 1",
        "team_g_9999999999", // not an index the operator writes
        "..",
        "team_g_1.tmp"
      })
  void anythingElseDoesNotParse(String name) {
    assertThat(SharedDirName.parse(name)).isEmpty();
  }

  @Test
  void namespaceLongerThanALabelDoesNotParse() {
    assertThat(SharedDirName.parse("a".repeat(63) + "_g_1")).isPresent();
    assertThat(SharedDirName.parse("a".repeat(64) + "_g_1")).isEmpty();
  }

  @Test
  void nullDoesNotParse() {
    assertThat(SharedDirName.parse(null)).isEmpty();
  }
}
