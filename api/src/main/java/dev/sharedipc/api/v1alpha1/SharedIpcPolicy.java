package dev.sharedipc.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * Cluster-wide governance of shared memory: which namespaces may use which placements and hostIPC,
 * per-instance ceilings, and the orphan policies allowed. A group that breaks a policy that selects
 * its namespace gets PolicyCompliant=False and no pods.
 */
@Group(SharedIpcGroup.GROUP)
@Version(SharedIpcGroup.VERSION)
@Kind("SharedIpcPolicy")
@ShortNames("sipcpolicy")
@AdditionalPrinterColumn(
    name = "Host IPC",
    jsonPath = ".spec.allowHostIPC",
    type = AdditionalPrinterColumn.Type.BOOLEAN)
@AdditionalPrinterColumn(
    name = "Max Shared Memory",
    jsonPath = ".spec.maxSharedMemoryPerInstance",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Groups",
    jsonPath = ".status.matchedGroups",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Violating",
    jsonPath = ".status.violatingGroups",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class SharedIpcPolicy extends CustomResource<SharedIpcPolicySpec, SharedIpcPolicyStatus> {
  @Override
  protected SharedIpcPolicyStatus initStatus() {
    return new SharedIpcPolicyStatus();
  }
}
