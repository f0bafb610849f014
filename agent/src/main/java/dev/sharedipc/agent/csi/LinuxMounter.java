package dev.sharedipc.agent.csi;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Mounter} by the mount(2) and umount2(2) syscalls through JNA, not the {@code mount}
 * binary: the agent image need not carry util-linux, options reach the kernel as written (no shell,
 * no fstab, no helper that may add its own), and a failure is an errno the message can name.
 */
public final class LinuxMounter implements Mounter {
  private static final Logger LOG = LoggerFactory.getLogger(LinuxMounter.class);
  private static final long MS_RDONLY = 1;
  private static final long MS_NOSUID = 2;
  private static final long MS_NODEV = 4;
  private static final long MS_REMOUNT = 32;
  private static final long MS_BIND = 4096;
  private static final int MNT_DETACH = 2;
  private static final int UMOUNT_NOFOLLOW = 8;
  private static final int EBUSY = 16;
  private static final int EINVAL = 22;
  private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

  static {
    Native.register(NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
  }

  private static native int mount(
      String source, String target, String fstype, long flags, String data);

  private static native int umount2(String target, int flags);

  private static native String strerror(int errnum);

  @Override
  public void mountTmpfs(Path dir, long sizeBytes, int gid) throws IOException {
    String data = "size=" + sizeBytes + ",mode=2770,uid=0,gid=" + gid;
    call(
        mount("sharedipc-shm", dir.toString(), "tmpfs", MS_NOSUID | MS_NODEV, data),
        "mount -t tmpfs -o " + data + " " + dir,
        "the csi container needs CAP_SYS_ADMIN");
  }

  @Override
  public void resizeTmpfs(Path dir, long sizeBytes) throws IOException {
    call(
        mount(
            "sharedipc-shm",
            dir.toString(),
            "tmpfs",
            MS_REMOUNT | MS_NOSUID | MS_NODEV,
            "size=" + sizeBytes),
        "mount -o remount,size=" + sizeBytes + " " + dir,
        "a size below what the instance already holds is refused with EINVAL");
  }

  @Override
  public void bind(Path source, Path target) throws IOException {
    call(
        mount(source.toString(), target.toString(), null, MS_BIND, null),
        "mount --bind " + source + " " + target,
        "the target must exist in this mount namespace");
  }

  @Override
  public void remountReadOnly(Path target) throws IOException {
    // MS_RDONLY is ignored by the bind itself: only a remount of the bind makes it read-only
    call(
        mount(
            null,
            target.toString(),
            null,
            MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV,
            null),
        "mount -o remount,bind,ro " + target,
        "");
  }

  @Override
  public void unmount(Path dir) throws IOException {
    // UMOUNT_NOFOLLOW: a link put where a mount was never leads the unmount elsewhere
    if (umount2(dir.toString(), UMOUNT_NOFOLLOW) == 0) {
      return;
    }
    int errno = Native.getLastError();
    if (errno == EBUSY) {
      LOG.warn(
          "action=umount path={} result=busy then=detach reason=\"a process still has files open in it\"",
          dir);
      call(umount2(dir.toString(), MNT_DETACH | UMOUNT_NOFOLLOW), "umount -l " + dir, "");
      return;
    }
    throw failure("umount " + dir, errno, errno == EINVAL ? "it is not a mount point" : "");
  }

  @Override
  public Map<String, MountTable.Mount> mounts() throws IOException {
    return MountTable.mounts(Files.readString(MOUNTINFO));
  }

  private static void call(int rc, String what, String hint) throws IOException {
    if (rc != 0) {
      throw failure(what, Native.getLastError(), hint);
    }
  }

  private static IOException failure(String what, int errno, String hint) {
    return new IOException(
        what
            + " failed: errno "
            + errno
            + " ("
            + strerror(errno)
            + ")"
            + (hint.isEmpty() ? "" : "; " + hint));
  }
}
