package dev.sharedipc.agent.kernel;

import com.sun.jna.Platform;

/**
 * Byte offsets of the kernel structures the agent reads, for the 64-bit Linux ABIs it supports
 * (x86_64 and aarch64 share them: both use the generic 64-bit {@code ipc64_perm} and {@code
 * shmid64_ds} through glibc). Checked against the C headers by {@code
 * KernelIT.structLayoutsMatchTheCHeaders}, which compiles a tiny program with gcc and compares
 * every offset.
 */
final class Layout {
  static final boolean SUPPORTED = Platform.is64Bit() && (Platform.isIntel() || Platform.isARM());

  /** struct shmid_ds (glibc, 64-bit). */
  static final int SHMID_DS_SIZE = 112;

  static final int SHM_PERM_KEY = 0;
  static final int SHM_PERM_UID = 4;
  static final int SHM_PERM_GID = 8;
  static final int SHM_PERM_CUID = 12;
  static final int SHM_PERM_CGID = 16;
  static final int SHM_PERM_MODE = 20; // unsigned short
  static final int SHM_SEGSZ = 48;
  static final int SHM_ATIME = 56;
  static final int SHM_DTIME = 64;
  static final int SHM_CTIME = 72;
  static final int SHM_CPID = 80;
  static final int SHM_LPID = 84;
  static final int SHM_NATTCH = 88;

  /** struct shminfo (IPC_INFO). */
  static final int SHMINFO_SIZE = 72;

  static final int SHMINFO_SHMMAX = 0;
  static final int SHMINFO_SHMMIN = 8;
  static final int SHMINFO_SHMMNI = 16;
  static final int SHMINFO_SHMSEG = 24;
  static final int SHMINFO_SHMALL = 32;

  /** struct shm_info (SHM_INFO). */
  static final int SHM_INFO_SIZE = 48;

  static final int SHM_INFO_USED_IDS = 0; // int
  static final int SHM_INFO_TOT = 8; // pages
  static final int SHM_INFO_RSS = 16; // pages
  static final int SHM_INFO_SWP = 24; // pages

  /** struct statfs (64-bit). */
  static final int STATFS_SIZE = 120;

  static final int STATFS_TYPE = 0;
  static final int STATFS_BSIZE = 8;
  static final int STATFS_BLOCKS = 16;
  static final int STATFS_BFREE = 24;
  static final int STATFS_BAVAIL = 32;
  static final int STATFS_FRSIZE = 72;

  private Layout() {}
}
