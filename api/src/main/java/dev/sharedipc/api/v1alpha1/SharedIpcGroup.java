package dev.sharedipc.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A set of processes that must share memory. Each of {@code spec.replicas} instances is one
 * co-located set of members, placed so that they can really share memory, with that memory sized,
 * accounted to a member and reported.
 */
@Group(SharedIpcGroup.GROUP)
@Version(SharedIpcGroup.VERSION)
@Kind("SharedIpcGroup")
@ShortNames("sipc")
@AdditionalPrinterColumn(
    name = "Placement",
    jsonPath = ".spec.placement",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Replicas",
    jsonPath = ".spec.replicas",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Ready",
    jsonPath = ".status.readyInstances",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Phase",
    jsonPath = ".status.phase",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Shared Memory",
    jsonPath = ".spec.sharedMemory.size",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Segments",
    jsonPath = ".status.usage.segments",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Reason",
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].reason",
    type = AdditionalPrinterColumn.Type.STRING,
    priority = 1)
@AdditionalPrinterColumn(
    name = "Memory",
    jsonPath = ".status.conditions[?(@.type==\"MemoryAccounted\")].reason",
    type = AdditionalPrinterColumn.Type.STRING,
    priority = 1)
@AdditionalPrinterColumn(
    name = "Policy",
    jsonPath = ".status.conditions[?(@.type==\"PolicyCompliant\")].reason",
    type = AdditionalPrinterColumn.Type.STRING,
    priority = 1)
@AdditionalPrinterColumn(
    name = "Orphans",
    jsonPath = ".status.effectiveOrphanPolicy.policy",
    type = AdditionalPrinterColumn.Type.STRING,
    priority = 1)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class SharedIpcGroup extends CustomResource<SharedIpcGroupSpec, SharedIpcGroupStatus>
    implements Namespaced {
  public static final String GROUP = "sharedipc.dev";
  public static final String VERSION = "v1alpha1";

  @Override
  protected SharedIpcGroupStatus initStatus() {
    return new SharedIpcGroupStatus();
  }
}
