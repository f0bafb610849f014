package dev.sharedipc.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Objects;

/**
 * Semaphore sets and message queues one instance holds, as the node agent counted them in its IPC
 * namespace. Inventoried and reported, never removed: these objects have no attach count.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class IpcObjectUsage {

  @JsonPropertyDescription("System V semaphore sets.")
  private Long semaphoreSets;

  @JsonPropertyDescription("Semaphores in those sets (the sum of their nsems).")
  private Long semaphores;

  @JsonPropertyDescription("System V message queues.")
  private Long messageQueues;

  @JsonPropertyDescription("Bytes of the messages waiting in those queues.")
  private Long queuedBytes;

  @JsonPropertyDescription("POSIX message queues (mq_open), where the agent could read them.")
  private Long posixMessageQueues;

  @JsonPropertyDescription("Bytes of the messages waiting in the POSIX message queues.")
  private Long posixQueuedBytes;

  public IpcObjectUsage() {}

  public IpcObjectUsage(
      long semaphoreSets,
      long semaphores,
      long messageQueues,
      long queuedBytes,
      long posixMessageQueues,
      long posixQueuedBytes) {
    this.semaphoreSets = semaphoreSets;
    this.semaphores = semaphores;
    this.messageQueues = messageQueues;
    this.queuedBytes = queuedBytes;
    this.posixMessageQueues = posixMessageQueues;
    this.posixQueuedBytes = posixQueuedBytes;
  }

  /** Adds another count to this one. */
  public IpcObjectUsage add(IpcObjectUsage o) {
    return new IpcObjectUsage(
        nz(semaphoreSets) + nz(o.semaphoreSets),
        nz(semaphores) + nz(o.semaphores),
        nz(messageQueues) + nz(o.messageQueues),
        nz(queuedBytes) + nz(o.queuedBytes),
        nz(posixMessageQueues) + nz(o.posixMessageQueues),
        nz(posixQueuedBytes) + nz(o.posixQueuedBytes));
  }

  /**
   * Message queues of both kinds, System V and POSIX: what spec.segments.maxMessageQueues counts.
   */
  public long allMessageQueues() {
    return nz(messageQueues) + nz(posixMessageQueues);
  }

  private static long nz(Long v) {
    return v == null ? 0 : v;
  }

  public Long getSemaphoreSets() {
    return semaphoreSets;
  }

  public void setSemaphoreSets(Long semaphoreSets) {
    this.semaphoreSets = semaphoreSets;
  }

  public Long getSemaphores() {
    return semaphores;
  }

  public void setSemaphores(Long semaphores) {
    this.semaphores = semaphores;
  }

  public Long getMessageQueues() {
    return messageQueues;
  }

  public void setMessageQueues(Long messageQueues) {
    this.messageQueues = messageQueues;
  }

  public Long getQueuedBytes() {
    return queuedBytes;
  }

  public void setQueuedBytes(Long queuedBytes) {
    this.queuedBytes = queuedBytes;
  }

  public Long getPosixMessageQueues() {
    return posixMessageQueues;
  }

  public void setPosixMessageQueues(Long posixMessageQueues) {
    this.posixMessageQueues = posixMessageQueues;
  }

  public Long getPosixQueuedBytes() {
    return posixQueuedBytes;
  }

  public void setPosixQueuedBytes(Long posixQueuedBytes) {
    this.posixQueuedBytes = posixQueuedBytes;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof IpcObjectUsage that
        && Objects.equals(semaphoreSets, that.semaphoreSets)
        && Objects.equals(semaphores, that.semaphores)
        && Objects.equals(messageQueues, that.messageQueues)
        && Objects.equals(queuedBytes, that.queuedBytes)
        && Objects.equals(posixMessageQueues, that.posixMessageQueues)
        && Objects.equals(posixQueuedBytes, that.posixQueuedBytes);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        semaphoreSets,
        semaphores,
        messageQueues,
        queuedBytes,
        posixMessageQueues,
        posixQueuedBytes);
  }
}
