package dev.sharedipc.agent.kernel;

import java.math.BigInteger;

/**
 * The System V shared memory limits of one IPC namespace ({@code shmctl(IPC_INFO)}) and its usage
 * ({@code shmctl(SHM_INFO)}), plus the node-wide {@code kernel.shm_rmid_forced}. Usage pages are
 * converted to bytes. {@code shmmax} (bytes) and {@code shmall} (pages) are unsigned 64-bit in the
 * kernel, and their stock value, 18446744073692774399 (ULONG_MAX - 2^24), does not fit a Java
 * {@code long}: they are kept as {@link BigInteger} so that no reader can show them negative.
 */
public record ShmLimits(
    BigInteger shmmax,
    BigInteger shmall,
    long shmmni,
    long shmRmidForced,
    int usedIds,
    long totalBytes,
    long rssBytes,
    long swapBytes) {

  /**
   * The kernel's {@code unsigned long} held in a Java {@code long}, read as the unsigned value it
   * is.
   */
  public static BigInteger unsigned(long raw) {
    return new BigInteger(Long.toUnsignedString(raw));
  }
}
