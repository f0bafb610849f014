package dev.sharedipc.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * One node's shared memory as its agent sees it. Cluster-scoped, named after the node, written only
 * by that node's agent; the operator reads it to fill in group usage.
 */
@Group(SharedIpcGroup.GROUP)
@Version(SharedIpcGroup.VERSION)
@Kind("SharedIpcNode")
@ShortNames("sipcnode")
@AdditionalPrinterColumn(
    name = "Namespaces",
    jsonPath = ".status.totals.ipcNamespaces",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Segments",
    jsonPath = ".status.totals.segments",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Bytes",
    jsonPath = ".status.totals.bytes",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Orphans",
    jsonPath = ".status.totals.orphans",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Last Scan",
    jsonPath = ".status.lastScanTime",
    type = AdditionalPrinterColumn.Type.DATE)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class SharedIpcNode extends CustomResource<SharedIpcNodeSpec, SharedIpcNodeStatus> {
  @Override
  protected SharedIpcNodeStatus initStatus() {
    return new SharedIpcNodeStatus();
  }
}
