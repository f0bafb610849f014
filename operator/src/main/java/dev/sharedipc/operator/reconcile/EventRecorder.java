package dev.sharedipc.operator.reconcile;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records core/v1 Events on a group (what {@code kubectl describe sipc} shows) and logs each one.
 * A failure to record is logged, never thrown: an Event is a report, not part of the work.
 */
public class EventRecorder implements dev.sharedipc.operator.sync.GroupEvents {
  private static final Logger LOG = LoggerFactory.getLogger(EventRecorder.class);
  public static final String COMPONENT = "sharedipc-operator";

  private final KubernetesClient client;
  private final AtomicLong sequence = new AtomicLong();

  public EventRecorder(KubernetesClient client) {
    this.client = client;
  }

  public void normal(HasMetadata object, String reason, String message) {
    record(object, "Normal", reason, message);
  }

  public void warning(HasMetadata object, String reason, String message) {
    record(object, "Warning", reason, message);
  }

  private void record(HasMetadata object, String type, String reason, String message) {
    String ns = object.getMetadata().getNamespace();
    String name = object.getMetadata().getName();
    LOG.info("event type={} reason={} object={}/{} message=\"{}\"", type, reason, ns, name, message);
    String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    try {
      client.v1().events().inNamespace(ns).resource(
          new EventBuilder()
              .withNewMetadata()
              .withName(name + "." + Long.toHexString(System.currentTimeMillis()) + Long.toHexString(sequence.incrementAndGet()))
              .withNamespace(ns)
              .endMetadata()
              .withInvolvedObject(new ObjectReferenceBuilder()
                  .withApiVersion(object.getApiVersion())
                  .withKind(object.getKind())
                  .withName(name)
                  .withNamespace(ns)
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
              .build()).create();
    } catch (KubernetesClientException e) {
      LOG.warn("could not record event reason={} on {}/{}: {}", reason, ns, name, e.getMessage());
    }
  }
}
