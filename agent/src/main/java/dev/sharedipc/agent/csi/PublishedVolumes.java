package dev.sharedipc.agent.csi;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which instance volumes this node holds and which targets publish them, kept in {@code <state
 * dir>/state.json} so that a restarted driver knows what is in use: it neither unmounts a volume
 * whose pods still run nor forgets one it must free. Written whole on every change: to a temporary
 * file, fsync'd, renamed over the old one and the directory fsync'd, so a crash leaves either the
 * old state or the new, never half of one.
 */
public final class PublishedVolumes {
  private static final ObjectMapper JSON =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  /** One instance's tmpfs: its size and group as mounted, and its targets by path. */
  public record Instance(
      String namespace,
      String group,
      String groupUid,
      int index,
      long sizeBytes,
      int gid,
      Map<String, Target> targets) {
    public Instance {
      targets = new TreeMap<>(targets == null ? Map.of() : targets);
    }
  }

  /**
   * One NodePublishVolume that holds an instance: the kubelet's volume id, the pod it is for, and
   * whether it was asked read-only (a state file written before this field reads as read-write).
   */
  public record Target(String volumeId, String podName, String podUid, boolean readOnly) {}

  /** The file's content: instances by directory name. */
  record State(Map<String, Instance> instances) {}

  private final Path file;

  public PublishedVolumes(Path stateDir) {
    this.file = stateDir.resolve("state.json");
  }

  public Path file() {
    return file;
  }

  public Map<String, Instance> load() throws IOException {
    if (!Files.exists(file)) {
      return new LinkedHashMap<>();
    }
    State state;
    try {
      state = JSON.readValue(file.toFile(), State.class);
    } catch (IOException e) {
      throw new IOException(
          "cannot read CSI state "
              + file
              + ": "
              + e.getMessage()
              + "; it is written only by this driver (move it away to start empty, after unmounting what it lists)",
          e);
    }
    return new LinkedHashMap<>(state.instances() == null ? Map.of() : state.instances());
  }

  public void save(Map<String, Instance> instances) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    byte[] bytes =
        JSON.writerWithDefaultPrettyPrinter()
            .writeValueAsBytes(new State(new TreeMap<>(instances)));
    try (FileChannel out =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer buffer = ByteBuffer.wrap(bytes);
      while (buffer.hasRemaining()) {
        out.write(buffer);
      }
      out.force(true);
    }
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
      dir.force(true);
    }
  }
}
