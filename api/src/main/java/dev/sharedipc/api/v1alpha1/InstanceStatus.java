package dev.sharedipc.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Where one instance runs, how far it is, and the memory it holds. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class InstanceStatus {

  @JsonPropertyDescription("Instance number, 0 to replicas-1.")
  private Integer index;

  @JsonPropertyDescription("Node the instance's pods run on, once scheduled.")
  private String node;

  @JsonPropertyDescription("Names of the instance's pods.")
  private List<String> pods = new ArrayList<>();

  @JsonPropertyDescription("Pending, Running, Ready, Updating or Failed.")
  private String phase;

  @JsonPropertyDescription("Why the instance is not ready yet, when it is not.")
  private String message;

  @JsonPropertyDescription(
      "SameNode: when the operator chose the instance's node (RFC 3339). An instance not yet whole there within scheduling.timeout of this moment is placed again whole.")
  private String placedAt;

  @JsonPropertyDescription(
      "SameNode: when every member of the instance first ran on its node (RFC 3339); from then on a lost or updated member is re-created on that node, and the instance moves only if the node is gone, cordoned or not Ready.")
  private String firstWholeAt;

  @JsonPropertyDescription(
      "SameNode: since when a member of an instance that was whole is missing or not running (RFC 3339); absent while the instance is whole.")
  private String brokenSince;

  @JsonPropertyDescription(
      "System V segments in the instance's IPC namespace, from the node agent.")
  private SegmentUsage segments;

  @JsonPropertyDescription(
      "Bytes used in the instance's memory-backed volume, from the node agent.")
  private Long sharedMemoryUsedBytes;

  // --- semaphore sets and message queues (inventoried, never removed) ---
  @JsonPropertyDescription(
      "Semaphore sets and message queues (System V, and POSIX where readable) in the instance's IPC namespace, from the node agent.")
  private IpcObjectUsage ipcObjects;

  public IpcObjectUsage getIpcObjects() {
    return ipcObjects;
  }

  public void setIpcObjects(IpcObjectUsage ipcObjects) {
    this.ipcObjects = ipcObjects;
  }

  public Integer getIndex() {
    return index;
  }

  public void setIndex(Integer index) {
    this.index = index;
  }

  public String getNode() {
    return node;
  }

  public void setNode(String node) {
    this.node = node;
  }

  public List<String> getPods() {
    return pods;
  }

  public void setPods(List<String> pods) {
    this.pods = pods;
  }

  public String getPhase() {
    return phase;
  }

  public void setPhase(String phase) {
    this.phase = phase;
  }

  public String getMessage() {
    return message;
  }

  public void setMessage(String message) {
    this.message = message;
  }

  public String getPlacedAt() {
    return placedAt;
  }

  public void setPlacedAt(String placedAt) {
    this.placedAt = placedAt;
  }

  public String getFirstWholeAt() {
    return firstWholeAt;
  }

  public void setFirstWholeAt(String firstWholeAt) {
    this.firstWholeAt = firstWholeAt;
  }

  public String getBrokenSince() {
    return brokenSince;
  }

  public void setBrokenSince(String brokenSince) {
    this.brokenSince = brokenSince;
  }

  public SegmentUsage getSegments() {
    return segments;
  }

  public void setSegments(SegmentUsage segments) {
    this.segments = segments;
  }

  public Long getSharedMemoryUsedBytes() {
    return sharedMemoryUsedBytes;
  }

  public void setSharedMemoryUsedBytes(Long sharedMemoryUsedBytes) {
    this.sharedMemoryUsedBytes = sharedMemoryUsedBytes;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof InstanceStatus)) {
      return false;
    }
    InstanceStatus that = (InstanceStatus) o;
    return Objects.equals(index, that.index)
        && Objects.equals(node, that.node)
        && Objects.equals(pods, that.pods)
        && Objects.equals(phase, that.phase)
        && Objects.equals(message, that.message)
        && Objects.equals(placedAt, that.placedAt)
        && Objects.equals(firstWholeAt, that.firstWholeAt)
        && Objects.equals(brokenSince, that.brokenSince)
        && Objects.equals(segments, that.segments)
        && Objects.equals(sharedMemoryUsedBytes, that.sharedMemoryUsedBytes)
        && Objects.equals(ipcObjects, that.ipcObjects);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        index,
        node,
        pods,
        phase,
        message,
        placedAt,
        firstWholeAt,
        brokenSince,
        segments,
        sharedMemoryUsedBytes,
        ipcObjects);
  }
}
