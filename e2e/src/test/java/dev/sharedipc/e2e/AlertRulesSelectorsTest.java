package dev.sharedipc.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Which series selectors {@link AlertRules#selectors} finds in an alert's PromQL. */
class AlertRulesSelectorsTest {
  @Test
  void findsEachMetricWithItsMatchersOnceAndNoFunctionOrLabelName() {
    assertThat(
            AlertRules.selectors(
                "sum by (instance) (increase(sharedipc_reaper_decisions_total{action=\"Failed\"}[30m])) > 0"
                    + " or time() - sharedipc_last_scan_timestamp_seconds > 300 or sharedipc_last_scan_timestamp_seconds > 1"))
        .containsExactly(
            "sharedipc_reaper_decisions_total{action=\"Failed\"}",
            "sharedipc_last_scan_timestamp_seconds");
  }

  @Test
  void readsUpAndKubeStateMetricsButNotNamesInsideLabelValues() {
    assertThat(
            AlertRules.selectors(
                "absent(up{job=\"sharedipc-agent-metrics\"} == 1) or (count(kube_node_info)"
                    + " - count(up{job=\"sharedipc_agent\"} == 1)) > 0"))
        .containsExactly(
            "up{job=\"sharedipc-agent-metrics\"}", "kube_node_info", "up{job=\"sharedipc_agent\"}");
  }
}
