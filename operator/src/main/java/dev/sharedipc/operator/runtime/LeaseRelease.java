package dev.sharedipc.operator.runtime;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands the leader lease back when the operator stops, as client-go's ReleaseOnCancel does: the
 * holder is cleared, so a standby takes the lease at its next try instead of waiting for it to
 * expire. JOSDK 5.2 runs fabric8's elector with releaseOnCancel off and does not expose it, and
 * fabric8 7.5's own release (a JSON merge patch) cannot clear the holder; hence this small class.
 */
final class LeaseRelease {
  private static final Logger LOG = LoggerFactory.getLogger(LeaseRelease.class);

  private final KubernetesClient client;
  private final String namespace;
  private final String identity;

  LeaseRelease(KubernetesClient client, String namespace, String identity) {
    this.client = client;
    this.namespace = namespace;
    this.identity = identity;
  }

  /**
   * Clears the lease if this process holds it. Call it only once the controllers have stopped: the
   * next leader must never reconcile next to this one. Never throws: a lease that cannot be
   * released still expires.
   */
  void release() {
    try {
      Lease lease =
          client.leases().inNamespace(namespace).withName(OperatorRuntime.LEASE_NAME).get();
      if (lease == null
          || lease.getSpec() == null
          || !identity.equals(lease.getSpec().getHolderIdentity())) {
        return;
      }
      ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
      lease.getSpec().setHolderIdentity(null);
      lease.getSpec().setLeaseDurationSeconds(1);
      lease.getSpec().setAcquireTime(now);
      lease.getSpec().setRenewTime(now);
      // An update carries the resourceVersion just read: if anyone changed the lease since, it
      // fails.
      client.resource(lease).update();
      LOG.info(
          "leader election: lease {}/{} released; a standby takes over at its next try",
          namespace,
          OperatorRuntime.LEASE_NAME);
    } catch (KubernetesClientException e) {
      LOG.warn(
          "leader election: could not release lease {}/{} (HTTP {}: {}); a standby takes it once it expires",
          namespace,
          OperatorRuntime.LEASE_NAME,
          e.getCode(),
          e.getMessage());
    }
  }
}
