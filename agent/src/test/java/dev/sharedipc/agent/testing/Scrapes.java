package dev.sharedipc.agent.testing;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What tests read from the agent's /metrics: one series' value in a Prometheus text scrape. */
public final class Scrapes {
  private Scrapes() {}

  /** The value of {@code series} (a name with its labels, as printed), or NaN when it is absent. */
  public static double value(String scrape, String series) {
    Matcher m =
        Pattern.compile("(?m)^" + Pattern.quote(series) + " ([0-9.eE+-]+)$").matcher(scrape);
    return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
  }
}
