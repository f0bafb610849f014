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

  @JsonPropertyDescription("System V segments in the instance's IPC namespace, from the node agent.")
  private SegmentUsage segments;

  @JsonPropertyDescription("Bytes used in the instance's memory-backed volume, from the node agent.")
  private Long sharedMemoryUsedBytes;

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
        && Objects.equals(segments, that.segments)
        && Objects.equals(sharedMemoryUsedBytes, that.sharedMemoryUsedBytes);
  }

  @Override
  public int hashCode() {
    return Objects.hash(index, node, pods, phase, message, segments, sharedMemoryUsedBytes);
  }
}
