package dev.sharedipc.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * How {@link Dashboard} turns a Grafana dashboard's panels and variables into PromQL Prometheus can
 * run.
 */
class DashboardTest {
  private static final Map<String, String> VALUES =
      Map.of("instance", ".*", "__rate_interval", "30s");

  @Test
  void substitutesBothVariableFormsAndGrafanasIntervals() {
    assertThat(
            Dashboard.substitute("sum(rate(x{instance=~\"$instance\"}[$__rate_interval]))", VALUES))
        .isEqualTo("sum(rate(x{instance=~\".*\"}[30s]))");
    assertThat(
            Dashboard.substitute(
                "x{instance=~\"${instance}\"} or y{i=~\"${instance:regex}\"}", VALUES))
        .isEqualTo("x{instance=~\".*\"} or y{i=~\".*\"}");
  }

  @Test
  void anUndefinedVariableFailsNamingIt() {
    assertThatThrownBy(() -> Dashboard.substitute("x{node=~\"$node\"}", VALUES))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("$node");
  }

  @Test
  void labelValuesBecomesOneSeriesPerValue() {
    assertThat(Dashboard.labelValues("label_values(sharedipc_scans_total, instance)"))
        .isEqualTo("group by (instance) (sharedipc_scans_total)");
    assertThat(Dashboard.labelValues("up{job=\"a\"}")).isEqualTo("up{job=\"a\"}");
  }

  @Test
  void readsEveryTargetOfNestedPanelsAndTheQueryVariables() throws Exception {
    String json =
        """
        {"templating": {"list": [
           {"name": "datasource", "type": "datasource", "query": "prometheus"},
           {"name": "instance", "type": "query", "includeAll": true, "allValue": ".+",
            "query": {"query": "label_values(m_total, instance)", "refId": "instance"}}]},
         "panels": [
           {"title": "Top", "targets": [{"refId": "A", "expr": "m{instance=~\\"$instance\\"}"}]},
           {"title": "Row", "type": "row", "panels": [
              {"title": "Inner", "targets": [{"refId": "B", "expr": "rate(m_total[$__rate_interval])"}]}]}]}
        """;
    assertThat(new Dashboard(new ObjectMapper().readTree(json)).queries("1m"))
        .containsExactly(
            new Dashboard.Query("variable $instance", "group by (instance) (m_total)"),
            new Dashboard.Query("panel \"Top\" A", "m{instance=~\".+\"}"),
            new Dashboard.Query("panel \"Inner\" B", "rate(m_total[1m])"));
  }
}
