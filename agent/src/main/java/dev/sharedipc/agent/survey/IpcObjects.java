package dev.sharedipc.agent.survey;

import dev.sharedipc.agent.scan.MessageQueue;
import dev.sharedipc.agent.scan.PosixQueue;
import dev.sharedipc.agent.scan.SemaphoreSet;
import java.util.List;
import java.util.Map;

/**
 * The IPC objects of one pass that are inventoried and never removed: System V semaphore sets and
 * message queues (read on each namespace's own thread), and POSIX message queues (read from the
 * mqueue filesystem a process of each namespace sees at {@code /dev/mqueue}). Each carries the
 * attribution of its namespace, as segments in a pod's namespace do.
 *
 * @param posixQueuesUnreadable namespace inode -> why its POSIX queues could not be listed: such a
 *     namespace's queues are unknown, which is not the same as none
 */
public record IpcObjects(
    List<Attributed<SemaphoreSet>> semaphoreSets,
    List<Attributed<MessageQueue>> messageQueues,
    List<Attributed<PosixQueue>> posixQueues,
    Map<Long, String> posixQueuesUnreadable) {
  public static final IpcObjects NONE = new IpcObjects(List.of(), List.of(), List.of(), Map.of());

  public IpcObjects {
    semaphoreSets = List.copyOf(semaphoreSets);
    messageQueues = List.copyOf(messageQueues);
    posixQueues = List.copyOf(posixQueues);
    posixQueuesUnreadable = Map.copyOf(posixQueuesUnreadable);
  }
}
