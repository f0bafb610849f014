package dev.sharedipc.agent.scan;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SharedDirNameTest {
  @Test
  void operatorLayoutParsesIntoNamespaceGroupAndInstance() {
    assertThat(SharedDirName.parse("team-a_writer-pool_3")).contains(new SharedDirName("team-a", "writer-pool", 3));
    assertThat(SharedDirName.parse("default_g_0")).contains(new SharedDirName("default", "g", 0));
    assertThat(SharedDirName.parse("ns1_grp.v2_12")).contains(new SharedDirName("ns1", "grp.v2", 12));
  }

  @Test
  void directoryNameIsTheInverseOfParse() {
    SharedDirName n = new SharedDirName("team-a", "g", 41);
    assertThat(n.directoryName()).isEqualTo("team-a_g_41");
    assertThat(SharedDirName.parse(n.directoryName())).contains(n);
    assertThat(n.groupKey()).isEqualTo("team-a/g");
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "", "lost+found", "team_g", "team_g_1_2", "team__1", "_g_1", "team_g_", // wrong number of parts or empty parts
      "Team_g_1", "team_G_1", "team-_g_1", "-team_g_1", "team_g-_1", "te.am_g_1", // not Kubernetes names
      "team_g_01", "team_g_-1", "team_g_+1", "team_g_1a", "team_g_ 1", "team_g_9999999999", // not an index the operator writes
      "..", "team_g_1.tmp"})
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
