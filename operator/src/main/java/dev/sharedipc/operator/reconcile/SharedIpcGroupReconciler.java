package dev.sharedipc.operator.reconcile;

import dev.sharedipc.api.Labels;
import dev.sharedipc.api.v1alpha1.AdmittedSpec;
import dev.sharedipc.api.v1alpha1.Placement;
import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcGroupStatus;
import dev.sharedipc.api.v1alpha1.SharedIpcNode;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicy;
import dev.sharedipc.operator.assessment.Assessment;
import dev.sharedipc.operator.informers.EveryPrimary;
import dev.sharedipc.operator.informers.TrimmedStore;
import dev.sharedipc.operator.policy.Admission;
import dev.sharedipc.operator.policy.OrphanPolicyResolver;
import dev.sharedipc.operator.policy.PolicyEvaluator;
import dev.sharedipc.operator.render.DesiredState;
import dev.sharedipc.operator.render.GroupRenderer;
import dev.sharedipc.operator.render.MergeConflict;
import dev.sharedipc.operator.render.Quantities;
import dev.sharedipc.operator.render.SharedMemoryMedia;
import dev.sharedipc.operator.samenode.SameNodePlanner;
import dev.sharedipc.operator.samenode.SchedulingPodStore;
import dev.sharedipc.operator.status.GroupObservation;
import dev.sharedipc.operator.status.StatusAggregator;
import dev.sharedipc.operator.sync.Blockers;
import dev.sharedipc.operator.sync.GroupSync;
import dev.sharedipc.operator.sync.OwnedPods;
import dev.sharedipc.operator.sync.SyncResult;
import dev.sharedipc.operator.usage.NodeUsage;
import dev.sharedipc.operator.usage.ReportIndex;
import dev.sharedipc.operator.usage.ReportedGroups;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.javaoperatorsdk.operator.api.config.informer.InformerConfiguration;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The thin controller of SharedIpcGroups: reads the group and its pods, asks the renderer what
 * should exist, lets the {@link GroupSync} of the group's placement apply one step ({@link PodSync}
 * for SamePod, {@code SameNodeSync} for SameNode), and records status and Events. Every decision is
 * made by a collaborator; this class only sequences them.
 */
@ControllerConfiguration(name = SharedIpcGroupReconciler.NAME)
public class SharedIpcGroupReconciler implements Reconciler<SharedIpcGroup> {
  public static final String NAME = "sharedipcgroup";
  static final String OWNED_PODS = "owned-pods";
  static final String ALL_PODS = "all-pods";
  private static final Logger LOG = LoggerFactory.getLogger(SharedIpcGroupReconciler.class);

  /** How soon to look again at a group that waits on something no event will announce. */
  static final Duration RECHECK = Duration.ofSeconds(30);

  private final GroupRenderer renderer;
  private final Consumer<Runnable> csiDriverChanges;
  private final Map<Placement, GroupSync> syncs;
  private final StatusAggregator aggregator;
  private final EventRecorder events;
  private final PolicyEvaluator policyEvaluator;
  private final NodeUsage nodeUsage;
  private final Clock clock;
  private final GroupReconciles observed;

  /**
   * How often what is remembered per group is dropped for the groups that are gone: a deleted group
   * (no finalizer) is never reconciled again, so nothing else would drop it.
   */
  static final java.time.Duration FORGET_EVERY = java.time.Duration.ofMinutes(10);

  private final java.util.concurrent.atomic.AtomicReference<java.time.Instant> lastForgot =
      new java.util.concurrent.atomic.AtomicReference<>();

  /** Per group UID: condition type to the status/reason last announced by an Event. */
  private final Map<String, Map<String, String>> announced = new ConcurrentHashMap<>();

  private final StatusWrites statusWrites = new StatusWrites();

  /**
   * @param syncs the sync of each placement mode (like Flink's ReconcilerFactory, one per mode)
   */
  public SharedIpcGroupReconciler(
      GroupRenderer renderer,
      Map<Placement, GroupSync> syncs,
      StatusAggregator aggregator,
      PolicyEvaluator policyEvaluator,
      NodeUsage nodeUsage,
      EventRecorder events,
      Clock clock) {
    this(
        renderer,
        syncs,
        aggregator,
        policyEvaluator,
        nodeUsage,
        events,
        clock,
        listener -> {},
        GroupReconciles.NONE);
  }

  /**
   * @param csiDriverChanges subscribes a listener to the CSIDriver {@code shm.sharedipc.dev}
   *     appearing or disappearing (the renderer's source of that fact): every SameNode group is
   *     then looked at again, so that its MemoryAccounted condition says which medium is in use and
   *     why
   * @param observed told how many groups each report update wakes and how many reports each
   *     reconcile reads
   */
  public SharedIpcGroupReconciler(
      GroupRenderer renderer,
      Map<Placement, GroupSync> syncs,
      StatusAggregator aggregator,
      PolicyEvaluator policyEvaluator,
      NodeUsage nodeUsage,
      EventRecorder events,
      Clock clock,
      Consumer<Runnable> csiDriverChanges,
      GroupReconciles observed) {
    this.csiDriverChanges = csiDriverChanges;
    this.observed = observed;
    this.renderer = renderer;
    this.syncs = Map.copyOf(syncs);
    this.policyEvaluator = policyEvaluator;
    this.nodeUsage = nodeUsage;
    this.aggregator = aggregator;
    this.events = events;
    this.clock = clock;
  }

  @Override
  public List<EventSource<?, SharedIpcGroup>> prepareEventSources(
      EventSourceContext<SharedIpcGroup> context) {
    // Pods map back to their group through the controller ownerReference (JOSDK's default);
    // the label selector keeps every other pod of the cluster out of the operator's memory.
    // Cached objects lose their managedFields (see TrimmedStore). JOSDK hands one item store to
    // every per-namespace informer, so a namespaced cache is trimmed only when one informer
    // watches all namespaces.
    boolean oneInformer =
        InformerConfiguration.allNamespacesWatched(
            context.getControllerConfiguration().getEffectiveNamespaces());
    InformerEventSourceConfiguration.Builder<Pod> ownedPods =
        InformerEventSourceConfiguration.from(Pod.class, SharedIpcGroup.class)
            .withName(OWNED_PODS)
            .withLabelSelector(Labels.MANAGED_BY + "=" + Labels.MANAGED_BY_VALUE)
            .withNamespacesInheritedFromController();
    if (oneInformer) {
      ownedPods.withItemStore(TrimmedStore.withoutManagedFields());
    }
    InformerEventSource<Pod, SharedIpcGroup> pods =
        new InformerEventSource<>(ownedPods.build(), context);
    // Which groups have pods on a node: those its report counts for without naming them.
    pods.addIndexers(Map.of(ReportIndex.POD_BY_NODE, ReportIndex::nodeKeys));
    java.util.function.Function<String, java.util.stream.Stream<ResourceID>> withPodsOn =
        node ->
            pods.byIndex(ReportIndex.POD_BY_NODE, node).stream()
                .flatMap(pod -> ReportIndex.controllingGroup(pod).stream())
                .distinct()
                .map(SharedIpcGroupReconciler::resourceId);
    // SameNode placement needs what every pod requests on every node, and the nodes themselves.
    // Other pods trigger nothing (a waiting instance looks again every 30 s); a node change that
    // matters to placement (readiness, cordon, capacity, labels, taints) wakes every SameNode
    // group.
    InformerEventSource<Pod, SharedIpcGroup> allPods =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Pod.class, SharedIpcGroup.class)
                .withName(ALL_PODS)
                .withWatchAllNamespaces()
                .withItemStore(
                    new SchedulingPodStore(
                        (namespace, name, uid) ->
                            context
                                .getPrimaryCache()
                                .get(new ResourceID(name, namespace))
                                .filter(g -> uid.equals(g.getMetadata().getUid()))
                                .map(SharedIpcGroupReconciler::nodeSharedBytesBound)
                                .orElse(java.util.OptionalLong.empty())))
                .withSecondaryToPrimaryMapper(pod -> Set.of())
                .build(),
            context);
    // A report counts only while its Node exists: a Node that goes also wakes the groups its report
    // mentioned or counted for (pods on it).
    ReportedGroups reported = new ReportedGroups();
    InformerEventSource<Node, SharedIpcGroup> nodeObjects =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Node.class, SharedIpcGroup.class)
                .withItemStore(TrimmedStore.nodes())
                .withSecondaryToPrimaryMapper(
                    node ->
                        java.util.stream.Stream.concat(
                                context
                                    .getPrimaryCache()
                                    .list(g -> g.getSpec().getPlacement() == Placement.SameNode)
                                    .map(ResourceID::fromResource),
                                java.util.stream.Stream.concat(
                                    reported.lastOf(node.getMetadata().getName()).stream()
                                        .map(SharedIpcGroupReconciler::resourceId),
                                    withPodsOn.apply(node.getMetadata().getName())))
                            .collect(Collectors.toSet()))
                .withOnUpdateFilter(
                    (updated, old) -> !Objects.equals(placementFacts(updated), placementFacts(old)))
                .build(),
            context);
    // Node reports, policies and namespaces are read from these caches; each event source also
    // says which groups to look at again when one of its objects changes. A report update wakes
    // the groups it names or named, and the groups with pods on its node (found through an index,
    // not a scan of every group), which the report counts for even when it names none of them:
    // a hostIPC instance, or an agent's first report written after the group's pods were bound
    // (see ReportIndex).
    InformerEventSource<SharedIpcNode, SharedIpcGroup> nodes =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(SharedIpcNode.class, SharedIpcGroup.class)
                .withItemStore(TrimmedStore.withoutManagedFields())
                .withSecondaryToPrimaryMapper(
                    node -> {
                      boolean counted = reported.seen(node);
                      Set<ResourceID> woken =
                          java.util.stream.Stream.concat(
                                  reported.changedBy(node).stream()
                                      .map(SharedIpcGroupReconciler::resourceId),
                                  withPodsOn.apply(node.getMetadata().getName()))
                              .collect(Collectors.toSet());
                      if (!counted) {
                        observed.reportUpdate(woken.size());
                      }
                      return woken;
                    })
                .build(),
            context);
    // Each reconcile reads only the reports that can count for its group (see ReportIndex).
    nodes.addIndexers(
        Map.of(
            ReportIndex.BY_GROUP,
            ReportIndex::groupKeys,
            ReportIndex.BY_POD_UID,
            ReportIndex::podUidKeys));
    InformerEventSource<SharedIpcPolicy, SharedIpcGroup> policies =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(SharedIpcPolicy.class, SharedIpcGroup.class)
                .withItemStore(TrimmedStore.withoutManagedFields())
                .withSecondaryToPrimaryMapper(EveryPrimary.of(context))
                // Groups read a policy's spec only. Its status is rewritten by the policy
                // controller after each group change: were that to wake every group, creating N
                // groups under one policy would cost about N²/2 reconciles (PolicyWakeupsIT).
                .withOnUpdateFilter(
                    (now, before) ->
                        !Objects.equals(
                            now.getMetadata().getGeneration(),
                            before.getMetadata().getGeneration()))
                .build(),
            context);
    InformerEventSource<Namespace, SharedIpcGroup> namespaces =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Namespace.class, SharedIpcGroup.class)
                .withItemStore(TrimmedStore.withoutManagedFields())
                .withSecondaryToPrimaryMapper(
                    ns ->
                        context
                            .getPrimaryCache()
                            .list(
                                g ->
                                    ns.getMetadata()
                                        .getName()
                                        .equals(g.getMetadata().getNamespace()))
                            .map(ResourceID::fromResource)
                            .collect(Collectors.toSet()))
                .build(),
            context);
    // The CSI driver installed or removed changes the SameNode default medium: an inbound source
    // that
    // the presence informer (runtime/CsiDriverPresence, tolerant of missing RBAC) fires.
    SimpleInboundEventSource<SharedIpcGroup> csiDriver =
        new SimpleInboundEventSource<>("csi-driver");
    csiDriverChanges.accept(
        () ->
            context
                .getPrimaryCache()
                .list(g -> g.getSpec().getPlacement() == Placement.SameNode)
                .forEach(g -> csiDriver.propagateEvent(ResourceID.fromResource(g))));
    return List.of(pods, allPods, nodeObjects, nodes, policies, namespaces, csiDriver);
  }

  /**
   * Up to how many bytes the node tmpfs claim of this group's pods is believed (see
   * SchedulingPodStore): its sharedMemory.size. A size the operator cannot read (stored before the
   * CRD bounded it; the group itself is marked invalid) leaves the claim its pods were created
   * with: this is read for every pod of the cluster by every SameNode placement, and must never
   * throw.
   */
  static java.util.OptionalLong nodeSharedBytesBound(SharedIpcGroup group) {
    return java.util.OptionalLong.of(
        group.getSpec().getSharedMemory() == null
            ? 0
            : Quantities.sizeBytes(group.getSpec().getSharedMemory().getSize())
                .orElse(Quantities.MAX_BYTES));
  }

  /**
   * The parts of a Node that placement decisions depend on; heartbeats alone change none of them.
   */
  private static List<Object> placementFacts(Node node) {
    return java.util.Arrays.asList(
        node.getMetadata().getLabels(),
        node.getSpec() == null ? null : node.getSpec().getTaints(),
        node.getSpec() == null ? null : node.getSpec().getUnschedulable(),
        node.getStatus() == null ? null : node.getStatus().getAllocatable(),
        SameNodePlanner.isReady(node));
  }

  private static ResourceID resourceId(String namespaceAndName) {
    int slash = namespaceAndName.indexOf('/');
    return new ResourceID(
        namespaceAndName.substring(slash + 1), namespaceAndName.substring(0, slash));
  }

  private static <R extends HasMetadata> InformerEventSource<R, SharedIpcGroup> cache(
      Context<SharedIpcGroup> context, Class<R> type) {
    return (InformerEventSource<R, SharedIpcGroup>)
        context.eventSourceRetriever().getEventSourceFor(type);
  }

  /**
   * At most every {@link #FORGET_EVERY}: the syncs and this reconciler forget the groups not in
   * {@code cached} (the groups the operator's cache holds now, the one being reconciled among
   * them).
   */
  void forgetDeletedGroups(
      java.util.function.Supplier<java.util.stream.Stream<SharedIpcGroup>> cached) {
    java.time.Instant now = clock.instant();
    java.time.Instant last = lastForgot.get();
    if (last == null) {
      lastForgot.compareAndSet(null, now);
      return;
    }
    if (now.isBefore(last.plus(FORGET_EVERY)) || !lastForgot.compareAndSet(last, now)) {
      return;
    }
    Set<String> live =
        cached.get().map(g -> g.getMetadata().getUid()).collect(Collectors.toUnmodifiableSet());
    announced.keySet().retainAll(live);
    statusWrites.forgetAllBut(live);
    syncs.values().forEach(sync -> sync.forgetAllBut(live));
  }

  @Override
  public UpdateControl<SharedIpcGroup> reconcile(
      SharedIpcGroup group, Context<SharedIpcGroup> context) {
    forgetDeletedGroups(() -> context.getPrimaryCache().list());
    String id = group.getMetadata().getNamespace() + "/" + group.getMetadata().getName();
    List<Pod> owned =
        ((InformerEventSource<Pod, SharedIpcGroup>)
                context.eventSourceRetriever().getEventSourceFor(Pod.class, OWNED_PODS))
            .getSecondaryResources(group).stream()
                .filter(p -> OwnedPods.isOwnedBy(p, group))
                .toList();

    Map<String, String> namespaceLabels =
        cache(context, Namespace.class)
            .get(new ResourceID(group.getMetadata().getNamespace()))
            .map(ns -> ns.getMetadata().getLabels())
            .orElse(Map.of());
    List<SharedIpcPolicy> governing =
        PolicyEvaluator.governing(
            namespaceLabels, cache(context, SharedIpcPolicy.class).list().toList());
    Assessment policy = policyEvaluator.evaluate(group, namespaceLabels, governing);
    // A violation stops changes, not healing: the pods follow the last admitted spec (see
    // Admission).
    Admission admission = Admission.of(group, policy);
    SharedIpcGroup governed = admission.governed();

    DesiredState desired = null;
    Assessment specProblem = null;
    try {
      desired =
          renderer.render(governed != null ? governed : group, SharedMemoryMedia.inUse(owned));
    } catch (MergeConflict e) {
      specProblem = new Assessment(false, e.reason(), e.getMessage());
      LOG.info(
          "group={} generation={} verdict=invalid reason={} message=\"{}\"",
          id,
          group.getMetadata().getGeneration(),
          e.reason(),
          e.getMessage());
    }
    InformerEventSource<SharedIpcNode, SharedIpcGroup> reportCache =
        cache(context, SharedIpcNode.class);
    List<SharedIpcNode> reports =
        ReportIndex.reportsOf(
            group,
            owned,
            new ReportIndex.Lookup() {
              @Override
              public List<SharedIpcNode> byIndex(String index, String key) {
                return reportCache.byIndex(index, key);
              }

              @Override
              public java.util.Optional<SharedIpcNode> ofNode(String node) {
                return reportCache.get(new ResourceID(node));
              }
            });
    InformerEventSource<Node, SharedIpcGroup> nodeCache = cache(context, Node.class);
    Set<String> existingNodes =
        reports.stream()
            .map(r -> r.getMetadata().getName())
            .filter(n -> nodeCache.get(new ResourceID(n)).isPresent())
            .collect(Collectors.toSet());
    NodeUsage.GroupUsage usage =
        nodeUsage.of(group, reports, owned, existingNodes, clock.instant());
    observed.reconciled(ResourceID.fromResource(group), reports.size());

    Blockers blockers = Blockers.NONE;
    SyncResult synced = null;
    if (desired != null && governed != null) {
      if (governed != group) {
        LOG.info(
            "group={} verdict=policy-violation action=heal-admitted-spec admittedGeneration={} replicas={} message=\"{}\"",
            id,
            admission.record().getGeneration(),
            governed.getSpec().getReplicas(),
            policy.message());
      }
      GroupSync sync = syncs.get(governed.getSpec().getPlacement());
      synced =
          sync.sync(
              governed,
              desired,
              owned,
              new GroupSync.Cluster(
                  () -> cache(context, Node.class).list().toList(),
                  () ->
                      ((InformerEventSource<Pod, SharedIpcGroup>)
                              context.eventSourceRetriever().getEventSourceFor(Pod.class, ALL_PODS))
                          .list()
                          .toList()));
      desired = synced.desired();
      owned = synced.pods();
      blockers = synced.blockers();
    } else if (desired != null) {
      LOG.info(
          "group={} verdict=policy-violation action=no-pod-changes reason=nothing-admitted message=\"{}\"",
          id,
          policy.message());
    }
    // A spec that cannot be rendered is not admitted: the last one that could stays on record.
    AdmittedSpec admitted =
        desired != null
            ? admission.record()
            : group.getStatus() == null ? null : group.getStatus().getAdmitted();
    GroupObservation seen =
        synced == null
            ? new GroupObservation(group, desired, specProblem, owned, blockers, policy, usage)
            : new GroupObservation(
                group,
                desired,
                specProblem,
                owned,
                blockers,
                policy,
                usage,
                synced.waiting(),
                synced.waitingReason());
    SharedIpcGroupStatus status =
        aggregator.aggregate(
            seen.governedBy(OrphanPolicyResolver.resolve(group, governing, policy), admitted),
            clock.instant());
    SyncResult.recordPlacements(synced, group.getStatus(), status);
    announceTransitions(group, status);

    SharedIpcGroupStatus old = group.getStatus();
    UpdateControl<SharedIpcGroup> control;
    boolean write = statusWrites.needed(group.getMetadata().getUid(), old, status);
    observed.statusWrite(write);
    if (!write) {
      control = UpdateControl.noUpdate();
    } else {
      statusWrites.writing(group.getMetadata().getUid(), status);
      LOG.info(
          "group={} generation={} phase={} ready={}/{}",
          id,
          group.getMetadata().getGeneration(),
          status.getPhase(),
          status.getReadyInstances(),
          group.getSpec().getReplicas());
      control = UpdateControl.patchStatus(statusOnly(group, status));
    }
    if (!blockers.isEmpty()) {
      // Nothing tells us when a foreign pod that blocks a name goes away, or when an admission
      // policy that refused a pod changes: look again later, slowly.
      control.rescheduleAfter(RECHECK);
    } else if (synced != null && synced.recheckIn().isPresent()) {
      // A SameNode timeout falls due, or an instance waits for room: look again then.
      control.rescheduleAfter(synced.recheckIn().get().plusMillis(100));
    }
    if (usage.staleAt().isPresent()) {
      // A report that stops being renewed changes no object: look again when it turns stale.
      Duration stale = Duration.between(clock.instant(), usage.staleAt().get()).plusSeconds(1);
      if (control.getScheduleDelay().map(delay -> stale.toMillis() < delay).orElse(true)) {
        control.rescheduleAfter(stale);
      }
    }
    return control;
  }

  @Override
  public ErrorStatusUpdateControl<SharedIpcGroup> updateErrorStatus(
      SharedIpcGroup group, Context<SharedIpcGroup> context, Exception e) {
    events.warning(
        group, "ReconcileFailed", "reconcile failed, will retry with backoff: " + e.getMessage());
    return ErrorStatusUpdateControl.defaultErrorProcessing();
  }

  /**
   * One Event per condition that changed status or reason, so `kubectl describe` tells the story.
   * What was last announced is remembered too: a reconcile that runs before the informer shows our
   * own status write would otherwise announce the same transition twice.
   */
  private void announceTransitions(SharedIpcGroup group, SharedIpcGroupStatus status) {
    List<Condition> before =
        group.getStatus() == null ? List.of() : group.getStatus().getConditions();
    if (announced.size() > 10_000) {
      announced.clear(); // bounded memory; at worst one transition is announced twice
    }
    Map<String, String> lastAnnounced =
        announced.computeIfAbsent(group.getMetadata().getUid(), uid -> new ConcurrentHashMap<>());
    for (Condition now : status.getConditions()) {
      Condition was =
          before.stream().filter(c -> c.getType().equals(now.getType())).findFirst().orElse(null);
      String key = now.getStatus() + "/" + now.getReason();
      if (was != null
          && Objects.equals(was.getStatus(), now.getStatus())
          && Objects.equals(was.getReason(), now.getReason())) {
        lastAnnounced.put(now.getType(), key);
        continue;
      }
      if (key.equals(lastAnnounced.put(now.getType(), key))) {
        continue;
      }
      if ("Unknown".equals(now.getStatus()) && was == null) {
        continue;
      }
      String text = now.getType() + "=" + now.getStatus() + ": " + now.getMessage();
      if ("False".equals(now.getStatus())
          && !"WaitingForScheduler".equals(now.getReason())
          && !"InstancesNotReady".equals(now.getReason())) {
        events.warning(group, now.getReason(), text);
      } else {
        events.normal(group, now.getReason(), text);
      }
    }
  }

  /**
   * A fresh object holding only what a status patch needs (JOSDK 5 patches status by server-side
   * apply).
   */
  private static SharedIpcGroup statusOnly(SharedIpcGroup group, SharedIpcGroupStatus status) {
    SharedIpcGroup patch = new SharedIpcGroup();
    ObjectMeta meta = new ObjectMeta();
    meta.setName(group.getMetadata().getName());
    meta.setNamespace(group.getMetadata().getNamespace());
    patch.setMetadata(meta);
    patch.setStatus(status);
    return patch;
  }
}
