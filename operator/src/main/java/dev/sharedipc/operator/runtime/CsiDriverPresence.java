package dev.sharedipc.operator.runtime;

import dev.sharedipc.api.CsiVolume;
import io.fabric8.kubernetes.api.model.storage.CSIDriver;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the CSI driver {@code shm.sharedipc.dev} is installed: a CSIDriver object of that name
 * exists, as an informer on that one name sees it (no API call per reconcile). Until the informer
 * has listed, and when the operator may not list CSIDrivers, the answer is no: SameNode groups then
 * default to HostPath, as before the driver existed.
 */
public final class CsiDriverPresence implements BooleanSupplier, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CsiDriverPresence.class);
  private final SharedIndexInformer<CSIDriver> informer;

  public CsiDriverPresence(KubernetesClient client) {
    informer = client.storage().v1().csiDrivers().withName(CsiVolume.DRIVER).runnableInformer(0);
    informer.start().whenComplete((ok, e) -> {
      if (e != null) {
        LOG.warn("cannot watch CSIDriver {}: {}; SameNode groups without spec.sharedMemory.medium use HostPath "
            + "(grant the operator get, list and watch on storage.k8s.io csidrivers)", CsiVolume.DRIVER, e.toString());
      }
    });
  }

  @Override
  public boolean getAsBoolean() {
    return !informer.getStore().list().isEmpty();
  }

  @Override
  public void close() {
    informer.close();
  }
}
