package dev.sharedipc.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sharedipc.api.v1alpha1.Placement;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.operator.policy.PolicyEvaluator;
import dev.sharedipc.operator.render.DesiredState;
import dev.sharedipc.operator.render.GroupRenderer;
import dev.sharedipc.operator.status.StatusAggregator;
import dev.sharedipc.operator.sync.GroupSync;
import dev.sharedipc.operator.sync.SyncResult;
import dev.sharedipc.operator.usage.NodeUsage;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A deleted group is never reconciled again: now and then the reconciler tells the syncs which
 * groups are left, so what they remember of the others goes.
 */
class ForgetDeletedGroupsSweepTest {
  /** A sync that only records what it was told to keep. */
  static final class Told implements GroupSync {
    final List<Set<String>> kept = new ArrayList<>();

    @Override
    public SyncResult sync(
        SharedIpcGroup group, DesiredState desired, List<Pod> owned, Cluster cluster) {
      throw new UnsupportedOperationException("not reconciled here");
    }

    @Override
    public void forgetAllBut(Set<String> liveGroupUids) {
      kept.add(liveGroupUids);
    }
  }

  static final class Manual extends Clock {
    Instant now = Instant.parse("2026-11-28T00:00:00Z");

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }

  static SharedIpcGroup group(String uid) {
    SharedIpcGroup g = new SharedIpcGroup();
    g.setMetadata(new ObjectMetaBuilder().withName("g-" + uid).withUid(uid).build());
    return g;
  }

  @Test
  void theSyncsKeepOnlyTheCachedGroupsAtMostEveryTenMinutes() {
    Told pods = new Told();
    Told sameNode = new Told();
    Manual clock = new Manual();
    SharedIpcGroupReconciler reconciler =
        new SharedIpcGroupReconciler(
            new GroupRenderer(),
            Map.of(Placement.SamePod, pods, Placement.SameNode, sameNode),
            new StatusAggregator(),
            new PolicyEvaluator(),
            new NodeUsage(),
            null,
            clock);

    reconciler.forgetDeletedGroups(() -> Stream.of(group("a"), group("b")));
    assertThat(pods.kept).as("the first reconcile only starts the clock").isEmpty();

    clock.now = clock.now.plus(Duration.ofMinutes(9));
    reconciler.forgetDeletedGroups(() -> Stream.of(group("a")));
    assertThat(pods.kept).as("nine minutes later").isEmpty();

    clock.now = clock.now.plus(Duration.ofMinutes(1));
    reconciler.forgetDeletedGroups(() -> Stream.of(group("a")));
    assertThat(pods.kept).containsExactly(Set.of("a"));
    assertThat(sameNode.kept).containsExactly(Set.of("a"));

    clock.now = clock.now.plus(Duration.ofMinutes(1));
    reconciler.forgetDeletedGroups(() -> Stream.of());
    assertThat(pods.kept).as("not again within ten minutes").hasSize(1);
  }
}
