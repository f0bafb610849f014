package dev.sharedipc.agent.report;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class ReportChangeTest {
  static final ObjectMapper JSON = new ObjectMapper();

  static JsonNode json(String text) throws Exception {
    return JSON.readTree(text.replace('\'', '"'));
  }

  @Test
  void theScanTimeReasonsAndMessagesAloneAreNotAChange() throws Exception {
    JsonNode before =
        json(
            "{'lastScanTime':'2026-11-27T20:00:00Z','lastScanDurationSeconds':0.2,'totals':{'segments':2},"
                + "'topOrphans':[{'shmid':7,'verdict':'Orphaned','reason':'unattached for 3m'}],"
                + "'conditions':[{'type':'Ready','status':'True','reason':'Scanned','message':'a','lastTransitionTime':'x'}]}");
    JsonNode after =
        json(
            "{'lastScanTime':'2026-11-27T20:00:30Z','lastScanDurationSeconds':0.3,'totals':{'segments':2},"
                + "'topOrphans':[{'shmid':7,'verdict':'Orphaned','reason':'unattached for 4m'}],"
                + "'conditions':[{'type':'Ready','status':'True','reason':'Scanned','message':'b','lastTransitionTime':'y'}]}");
    assertThat(ReportChange.material(before, after)).isEmpty();
  }

  @Test
  void aNumberTheApiServerGivesBackInAnotherWidthIsNoChange() throws Exception {
    // as written (kube/Json.tree of the report: a Long and a Double) and as read back (an int)
    JsonNode written =
        JSON.createObjectNode().set("kernel", JSON.createObjectNode().put("shmmni", 4096L));
    ((com.fasterxml.jackson.databind.node.ObjectNode) written).put("ratio", 2.0);
    JsonNode readBack = json("{'kernel':{'shmmni':4096},'ratio':2}");
    assertThat(ReportChange.material(written, readBack)).isEmpty();
    assertThat(ReportChange.material(written, json("{'kernel':{'shmmni':4097},'ratio':2}")))
        .contains("/kernel/shmmni");
  }

  @Test
  void countsVerdictsEntriesAndConditionsAreChanges() throws Exception {
    JsonNode base =
        json(
            "{'totals':{'segments':2},'topOrphans':[{'shmid':7,'verdict':'Orphaned'}],"
                + "'conditions':[{'type':'Ready','status':'True','reason':'Scanned'}]}");
    assertThat(
            ReportChange.material(
                base,
                json(
                    "{'totals':{'segments':3},'topOrphans':[{'shmid':7,'verdict':'Orphaned'}],"
                        + "'conditions':[{'type':'Ready','status':'True','reason':'Scanned'}]}")))
        .contains("/totals/segments");
    assertThat(
            ReportChange.material(
                base,
                json(
                    "{'totals':{'segments':2},'topOrphans':[{'shmid':7,'verdict':'Remove'}],"
                        + "'conditions':[{'type':'Ready','status':'True','reason':'Scanned'}]}")))
        .contains("/topOrphans/0/verdict");
    assertThat(
            ReportChange.material(
                base,
                json(
                    "{'totals':{'segments':2},'topOrphans':[],"
                        + "'conditions':[{'type':'Ready','status':'True','reason':'Scanned'}]}")))
        .contains("/topOrphans (1 -> 0 entries)");
    assertThat(
            ReportChange.material(
                base,
                json(
                    "{'totals':{'segments':2},'topOrphans':[{'shmid':7,'verdict':'Orphaned'}],"
                        + "'conditions':[{'type':'Ready','status':'True','reason':'ScannedWithProblems'}]}")))
        .contains("/conditions/0/reason");
    assertThat(
            ReportChange.material(
                base,
                json(
                    "{'totals':{'segments':2,'orphans':1},'topOrphans':[{'shmid':7,'verdict':'Orphaned'}],"
                        + "'conditions':[{'type':'Ready','status':'True','reason':'Scanned'}]}")))
        .contains("/totals/orphans");
    assertThat(ReportChange.material(null, base)).isPresent();
  }

  @Test
  void aByteGaugeChangesOnlyPastATenthAndAMebibyte() throws Exception {
    long mib = 1 << 20;
    assertThat(
            ReportChange.material(
                json("{'memoryVolumes':[{'usedBytes':" + 100 * mib + "}]}"),
                json("{'memoryVolumes':[{'usedBytes':" + 105 * mib + "}]}")))
        .as("5% more")
        .isEmpty();
    assertThat(
            ReportChange.material(
                json("{'memoryVolumes':[{'usedBytes':" + 100 * mib + "}]}"),
                json("{'memoryVolumes':[{'usedBytes':" + 112 * mib + "}]}")))
        .as("12% more")
        .isPresent();
    assertThat(
            ReportChange.material(
                json("{'totals':{'rssBytes':4096}}"), json("{'totals':{'rssBytes':65536}}")))
        .as("16x, but less than a mebibyte")
        .isEmpty();
    assertThat(
            ReportChange.material(
                json("{'totals':{'bytes':4096}}"), json("{'totals':{'bytes':8192}}")))
        .as("segment sizes are exact")
        .isPresent();
  }
}
