package dev.sharedipc.agent.csi;

/**
 * Decides whether the pod of a NodePublishVolume may see the instance it names. {@link
 * PodMembership} asks the API server; {@link #ANYONE} is for a driver started without one (tests,
 * csi-sanity).
 */
public interface Membership {
  Membership ANYONE = request -> {};

  /**
   * Returns when the pod is a member of the instance; throws {@link Refused} (PERMISSION_DENIED)
   * when it is not, {@link Unavailable} (UNAVAILABLE, the kubelet retries) when it cannot tell now.
   */
  void check(VolumeRequest request);

  /** The pod is not a member of the instance its volume names. */
  final class Refused extends RuntimeException {
    public Refused(String message) {
      super(message);
    }
  }

  /** The API server could not be asked. */
  final class Unavailable extends RuntimeException {
    public Unavailable(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
