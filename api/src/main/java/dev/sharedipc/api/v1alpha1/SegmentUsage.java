package dev.sharedipc.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Objects;

/** System V segment totals for one instance, as the node agent counted them. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SegmentUsage {

  @JsonPropertyDescription("Number of segments.")
  private Long count;

  @JsonPropertyDescription("Sum of the segments' sizes in bytes.")
  private Long bytes;

  @JsonPropertyDescription("Sum of the segments' resident bytes.")
  private Long rssBytes;

  @JsonPropertyDescription("Segments judged orphaned (nothing attached, creator gone).")
  private Long orphans;

  public SegmentUsage() {}

  public SegmentUsage(long count, long bytes, long rssBytes, long orphans) {
    this.count = count;
    this.bytes = bytes;
    this.rssBytes = rssBytes;
    this.orphans = orphans;
  }

  public Long getCount() {
    return count;
  }

  public void setCount(Long count) {
    this.count = count;
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

  public Long getOrphans() {
    return orphans;
  }

  public void setOrphans(Long orphans) {
    this.orphans = orphans;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof SegmentUsage)) {
      return false;
    }
    SegmentUsage that = (SegmentUsage) o;
    return Objects.equals(count, that.count)
        && Objects.equals(bytes, that.bytes)
        && Objects.equals(rssBytes, that.rssBytes)
        && Objects.equals(orphans, that.orphans);
  }

  @Override
  public int hashCode() {
    return Objects.hash(count, bytes, rssBytes, orphans);
  }
}
