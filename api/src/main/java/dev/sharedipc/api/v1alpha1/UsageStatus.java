package dev.sharedipc.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Objects;

/** Group-wide totals of the memory its instances hold, summed from the node agents' reports. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class UsageStatus {

  @JsonPropertyDescription("System V segments held by all instances.")
  private Long segments;

  @JsonPropertyDescription("Bytes of those segments.")
  private Long bytes;

  @JsonPropertyDescription("Resident bytes of those segments.")
  private Long rssBytes;

  @JsonPropertyDescription("Bytes used in the instances' memory-backed volumes.")
  private Long sharedMemoryUsedBytes;

  @JsonPropertyDescription("Orphaned segments the node agents removed for this group.")
  private Long orphansRemoved;

  // --- semaphore sets and message queues (inventoried, never removed) ---
  @JsonPropertyDescription(
      "Semaphore sets and message queues (System V, and POSIX where readable) held by all instances.")
  private IpcObjectUsage ipcObjects;

  public IpcObjectUsage getIpcObjects() {
    return ipcObjects;
  }

  public void setIpcObjects(IpcObjectUsage ipcObjects) {
    this.ipcObjects = ipcObjects;
  }

  public Long getSegments() {
    return segments;
  }

  public void setSegments(Long segments) {
    this.segments = segments;
  }

  public Long getBytes() {
    return bytes;
  }

  public void setBytes(Long bytes) {
    this.bytes = bytes;
  }

  public Long getRssBytes() {
    return rssBytes;
  }

  public void setRssBytes(Long rssBytes) {
    this.rssBytes = rssBytes;
  }

  public Long getSharedMemoryUsedBytes() {
    return sharedMemoryUsedBytes;
  }

  public void setSharedMemoryUsedBytes(Long sharedMemoryUsedBytes) {
    this.sharedMemoryUsedBytes = sharedMemoryUsedBytes;
  }

  public Long getOrphansRemoved() {
    return orphansRemoved;
  }

  public void setOrphansRemoved(Long orphansRemoved) {
    this.orphansRemoved = orphansRemoved;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof UsageStatus)) {
      return false;
    }
    UsageStatus that = (UsageStatus) o;
    return Objects.equals(segments, that.segments)
        && Objects.equals(bytes, that.bytes)
        && Objects.equals(rssBytes, that.rssBytes)
        && Objects.equals(sharedMemoryUsedBytes, that.sharedMemoryUsedBytes)
        && Objects.equals(orphansRemoved, that.orphansRemoved)
        && Objects.equals(ipcObjects, that.ipcObjects);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        segments, bytes, rssBytes, sharedMemoryUsedBytes, orphansRemoved, ipcObjects);
  }
}
