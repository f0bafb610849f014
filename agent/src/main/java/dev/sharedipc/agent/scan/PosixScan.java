package dev.sharedipc.agent.scan;

import dev.sharedipc.agent.kernel.AtFiles;
import dev.sharedipc.agent.scan.OpenFileUsers.FileId;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * The POSIX read of one pass: the objects of every volume ({@link PosixObjectCollector}) and who
 * has files on their filesystems open or mapped ({@link FileUsersIndex}), the two read at the same
 * time. They are independent (the index needs only the volumes' devices, known from their roots
 * before any listing), each is mostly system calls, so on a node with two cores the pass takes
 * about as long as the longer half instead of the sum. The index may see a file created after the
 * listing or miss one closed meanwhile; neither matters: nothing is removed without a fresh read
 * right before.
 *
 * @param objects every entry listed, in volume order
 * @param users who uses files on the volumes' devices (and on {@code alsoIndexed}'s)
 */
public record PosixScan(List<PosixObject> objects, FileUsersIndex users) {
  /**
   * Threads reading /proc beside the one listing the volumes: /proc is the larger half (a stat per
   * open fd, a maps text per process), so two readers and one lister keep two cores busy until the
   * end.
   */
  static final int PROC_WORKERS = 2;

  /**
   * @param procRoots where to look for processes
   * @param alsoIndexed directories whose filesystem the index covers too (the shared root, for its
   *     reaper)
   * @param problems where to note a volume that could not be read
   */
  public static PosixScan read(
      List<MemoryVolume> volumes,
      List<Path> procRoots,
      List<Path> alsoIndexed,
      List<String> problems) {
    Set<FileId> devices = new HashSet<>();
    for (MemoryVolume v : volumes) {
      deviceOf(Path.of(v.path()), devices);
    }
    alsoIndexed.forEach(p -> deviceOf(p, devices));
    FutureTask<FileUsersIndex> users =
        new FutureTask<>(() -> FileUsersIndex.read(procRoots, devices, PROC_WORKERS));
    Thread reader =
        new Thread(
            null, users, "posix-users", 256 * 1024); // a small stack, as the agent's other threads
    reader.setDaemon(true);
    reader.start();
    List<PosixObject> objects = PosixObjectCollector.collect(volumes, problems);
    try {
      return new PosixScan(objects, users.get());
    } catch (ExecutionException e) {
      throw new IllegalStateException(
          "reading who uses the POSIX objects failed: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      reader.interrupt();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while reading who uses the POSIX objects", e);
    }
  }

  /**
   * Adds the device of a directory (lstat: a root that is a link is not followed, and its volume
   * then fails to list).
   */
  private static void deviceOf(Path dir, Set<FileId> devices) {
    AtFiles.Stat st = AtFiles.lstat(dir.toString());
    if (st != null) {
      devices.add(FileId.of(st.dev(), st.ino()));
    }
  }
}
