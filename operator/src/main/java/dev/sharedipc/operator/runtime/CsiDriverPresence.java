package dev.sharedipc.operator.runtime;

import dev.sharedipc.api.CsiVolume;
import io.fabric8.kubernetes.api.model.storage.CSIDriver;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the CSI driver {@code shm.sharedipc.dev} is installed: a CSIDriver object of that name
 * exists, as an informer on that one name sees it (no API call per reconcile). The constructor
 * waits up to 10 s for its first list. Until the informer has listed, and when the operator may not
 * list CSIDrivers, the answer is no: new SameNode groups then default to HostPath, as before the
 * driver existed. Listeners ({@link #onChange}) hear it appear and disappear, after the cache has
 * it, so that the groups whose default medium it decides are looked at again at once.
 */
public final class CsiDriverPresence implements BooleanSupplier, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CsiDriverPresence.class);
  private final SharedIndexInformer<CSIDriver> informer;
  private static final Duration FIRST_LIST = Duration.ofSeconds(10);
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

  public CsiDriverPresence(KubernetesClient client) {
    informer = client.storage().v1().csiDrivers().withName(CsiVolume.DRIVER).runnableInformer(0);
    informer.addEventHandler(
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(CSIDriver driver) {
            changed("appeared");
          }

          @Override
          public void onUpdate(CSIDriver old, CSIDriver driver) {
            // still there: the default medium is the same
          }

          @Override
          public void onDelete(CSIDriver driver, boolean finalStateUnknown) {
            changed("disappeared");
          }
        });
    // Waited for (boundedly) before the operator starts reconciling: a group reconciled before the
    // first list would
    // get HostPath where the driver is installed, and its pods keep the medium they were created
    // with.
    try {
      informer.start().toCompletableFuture().get(FIRST_LIST.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException e) {
      LOG.warn(
          "cannot watch CSIDriver {}: {}; new SameNode groups without spec.sharedMemory.medium use HostPath until it "
              + "can (grant the operator list and watch on storage.k8s.io csidrivers)",
          CsiVolume.DRIVER,
          e instanceof ExecutionException
              ? e.getCause().toString()
              : "no list within " + FIRST_LIST.toSeconds() + " s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Runs {@code listener} each time the CSIDriver appears or disappears. */
  public void onChange(Runnable listener) {
    listeners.add(listener);
  }

  private void changed(String how) {
    LOG.info("csiDriver={} change={} listeners={}", CsiVolume.DRIVER, how, listeners.size());
    listeners.forEach(Runnable::run);
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
