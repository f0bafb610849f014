package dev.sharedipc.agent.survey;

import dev.sharedipc.agent.attribution.Attribution;
import dev.sharedipc.agent.scan.Segment;
import dev.sharedipc.agent.verdict.Judgement;
import dev.sharedipc.agent.verdict.Liveness;
import dev.sharedipc.agent.verdict.Policy;

/** One segment with everything the agent concluded about it in one pass. */
public record Finding(
    Segment segment,
    Attribution attribution,
    Liveness liveness,
    Policy policy,
    Judgement judgement) {

  /** The decision as one key=value log line: an audit needs nothing else. */
  public String audit(String action, String reason) {
    Segment s = segment;
    StringBuilder b = new StringBuilder(256);
    b.append("ipcns=")
        .append(s.ipcNamespace())
        .append(" shmid=")
        .append(s.shmid())
        .append(" key=")
        .append(s.keyHex())
        .append(" bytes=")
        .append(s.bytes())
        .append(" nattch=")
        .append(s.nattch())
        .append(" cpid=")
        .append(s.cpid())
        .append(" lpid=")
        .append(s.lpid())
        .append(" ctime=")
        .append(s.ctime())
        .append(" podUid=")
        .append(attribution.podUid() == null ? "-" : attribution.podUid())
        .append(" pod=")
        .append(attribution.podLabel())
        .append(" group=")
        .append(attribution.groupKey() == null ? "-" : attribution.groupKey())
        .append(" attribution=")
        .append(attribution.source())
        .append(" policy=")
        .append(policy.orphanPolicy())
        .append(" grace=")
        .append(dev.sharedipc.api.Durations.format(policy.grace()))
        .append(" verdict=")
        .append(judgement.verdict())
        .append(" action=")
        .append(action)
        .append(" reason=\"")
        .append((reason == null ? judgement.reason() : reason).replace("\"", "'"))
        .append('"');
    return b.toString();
  }
}
