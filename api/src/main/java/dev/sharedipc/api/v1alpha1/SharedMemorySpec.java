package dev.sharedipc.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Quantity;

/** The memory-backed volume of an instance: its size, where members see it, who pays for it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SharedMemorySpec {

  @JsonPropertyDescription(
      "Size of the instance's shared memory, a Kubernetes quantity such as 512Mi or 2Gi: the sizeLimit of the memory emptyDir (SamePod), the size of the instance's tmpfs (SameNode with medium CSI).")
  @Required
  @ValidationRule(
      value = Rules.POSITIVE_QUANTITY,
      message = "size must be a positive Kubernetes quantity such as 512Mi or 2Gi",
      reason = "FieldValueInvalid")
  @ValidationRule(
      value = Rules.BELOW_MAX_BYTES,
      message = "size" + Rules.BELOW_8EI,
      reason = "FieldValueInvalid")
  private Quantity size;

  @JsonPropertyDescription(
      "Absolute path at which every member sees the shared memory. Default /dev/shm.")
  @Default("/dev/shm")
  @Pattern("^/.*")
  private String mountPath = "/dev/shm";

  @JsonPropertyDescription(
      "Name of the member whose memory request and limit are raised by size, so that the kernel's charge for the shared pages has room in that member's budget. Shared pages are charged to whichever container first writes them.")
  private String accountTo;

  @JsonPropertyDescription(
      "SameNode only: where an instance's shared memory lives. CSI: a tmpfs of exactly size per instance from the CSI driver shm.sharedipc.dev, mounted into every member as an inline csi volume and freed with the instance's last member (Pod Security restricted admits it). HostPath: a directory of the node's /dev/shm through a hostPath volume (needs a namespace that allows hostPath; the node's tmpfs is the only limit). Default: the medium the group's pods use while it has any (a CSIDriver that appears or disappears replaces no member: members moved one by one would split an instance across two memories); for a group without pods, CSI where the driver is installed (a CSIDriver object shm.sharedipc.dev exists), else HostPath. Setting it to the other medium replaces the instances whole, one at a time. The MemoryAccounted condition says which is in use and why.")
  private SharedMemoryMedium medium;

  public Quantity getSize() {
    return size;
  }

  public void setSize(Quantity size) {
    this.size = size;
  }

  public String getMountPath() {
    return mountPath;
  }

  public void setMountPath(String mountPath) {
    this.mountPath = mountPath;
  }

  public SharedMemoryMedium getMedium() {
    return medium;
  }

  public void setMedium(SharedMemoryMedium medium) {
    this.medium = medium;
  }

  public String getAccountTo() {
    return accountTo;
  }

  public void setAccountTo(String accountTo) {
    this.accountTo = accountTo;
  }
}
