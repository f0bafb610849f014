package dev.sharedipc.operator.reconcile;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records core/v1 Events on a group (what {@code kubectl describe sipc} shows) and logs each one. A
 * failure to record is logged, never thrown: an Event is a report, not part of the work.
 *
 * <p>As client-go's recorder does, Events are written by one background thread from a bounded
 * queue, in order, so that a reconcile never waits for them (at 1,000 groups, five Events a group
 * on the reconcile threads held back Ready); when the queue is full an Event is dropped and logged.
 */
public class EventRecorder implements dev.sharedipc.operator.sync.GroupEvents, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EventRecorder.class);
  public static final String COMPONENT = "sharedipc-operator";

  /** Events waiting to be written; about 2 KiB each. */
  static final int QUEUE = 2_000;

  private final KubernetesClient client;
  private final AtomicLong sequence = new AtomicLong();
  private final ThreadPoolExecutor writer =
      new ThreadPoolExecutor(
          1,
          1,
          0,
          TimeUnit.SECONDS,
          new ArrayBlockingQueue<>(QUEUE),
          r -> {
            Thread t = new Thread(r, "event-writer");
            t.setDaemon(true);
            return t;
          });

  public EventRecorder(KubernetesClient client) {
    this.client = client;
  }

  /** Writes the Events still queued (for a few seconds at most), then stops the writer. */
  @Override
  public void close() {
    writer.shutdown();
    try {
      if (!writer.awaitTermination(5, TimeUnit.SECONDS)) {
        LOG.warn("{} Events not written at shutdown", writer.getQueue().size());
        writer.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      writer.shutdownNow();
    }
  }

  public void normal(HasMetadata object, String reason, String message) {
    record(object, "Normal", reason, message);
  }

  public void warning(HasMetadata object, String reason, String message) {
    record(object, "Warning", reason, message);
  }

  private void record(HasMetadata object, String type, String reason, String message) {
    // A cluster-scoped object's Events go to namespace default, as Kubernetes files a Node's.
    String ns =
        object.getMetadata().getNamespace() == null
            ? "default"
            : object.getMetadata().getNamespace();
    String name = object.getMetadata().getName();
    LOG.info(
        "event type={} reason={} object={}/{} message=\"{}\"", type, reason, ns, name, message);
    String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    io.fabric8.kubernetes.api.model.Event event =
        new EventBuilder()
            .withNewMetadata()
            .withName(
                name
                    + "."
                    + Long.toHexString(System.currentTimeMillis())
                    + Long.toHexString(sequence.incrementAndGet()))
            .withNamespace(ns)
            .endMetadata()
            .withInvolvedObject(
                new ObjectReferenceBuilder()
                    .withApiVersion(object.getApiVersion())
                    .withKind(object.getKind())
                    .withName(name)
                    .withNamespace(object.getMetadata().getNamespace())
                    .withUid(object.getMetadata().getUid())
                    .build())
            .withType(type)
            .withReason(reason)
            .withMessage(message.length() > 1024 ? message.substring(0, 1021) + "..." : message)
            .withNewSource(COMPONENT, null)
            .withReportingComponent(COMPONENT)
            .withFirstTimestamp(now)
            .withLastTimestamp(now)
            .withCount(1)
            .build();
    try {
      writer.execute(
          () -> {
            try {
              client.v1().events().inNamespace(ns).resource(event).create();
            } catch (KubernetesClientException e) {
              LOG.warn(
                  "could not record event reason={} on {}/{}: {}",
                  reason,
                  ns,
                  name,
                  e.getMessage());
            }
          });
    } catch (RejectedExecutionException e) {
      LOG.warn(
          "event dropped (writer stopped or {} Events queued) reason={} on {}/{}",
          QUEUE,
          reason,
          ns,
          name);
    }
  }
}
