package dev.sharedipc.agent.kernel;

/**
 * The System V shared memory limits of one IPC namespace ({@code shmctl(IPC_INFO)}) and its
 * usage ({@code shmctl(SHM_INFO)}), plus the node-wide {@code kernel.shm_rmid_forced}.
 * Pages are converted to bytes.
 */
public record ShmLimits(
    long shmmax, long shmall, long shmmni, long shmRmidForced, int usedIds, long totalBytes, long rssBytes, long swapBytes) {}
