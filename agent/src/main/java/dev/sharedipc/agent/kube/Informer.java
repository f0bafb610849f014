package dev.sharedipc.agent.kube;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cache of one kind of object kept up to date by list and watch, on one thread of its own.
 *
 * <p>It lists ({@value #PAGE} at a time), then watches from the list's resourceVersion, with
 * bookmarks; a watch the server ends is opened again from the last version seen, one the server
 * answers 410 Gone (the version is too old) lists again. Whatever fails is retried forever, after 1
 * s doubling to 32 s, with one warning per informer at most every five minutes: an API server that
 * is away at start, refuses the agent or drops a watch is listed again until it answers. The cache
 * keeps its contents meanwhile. A watch silent for longer than the server's own timeout plus a
 * minute (a connection lost without a word) is closed and opened again.
 *
 * <p>The cache holds what {@code read} makes of each object (the agent keeps only the fields it
 * reads); listeners get the objects as the server sent them, on the informer's thread.
 *
 * @param <T> what the cache keeps of an object
 */
public final class Informer<T> implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Informer.class);
  static final int WATCH_SECONDS = 290;
  static final int PAGE = 100;
  private static final Duration SILENT_WATCH = Duration.ofSeconds(WATCH_SECONDS + 60);
  private static final long QUIET_NANOS = Duration.ofMinutes(5).toNanos();
  private static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(32);

  /** One thread closes watches that went silent, for every informer of the JVM. */
  private static final ScheduledExecutorService WATCHDOG =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "watch-watchdog");
            t.setDaemon(true);
            return t;
          });

  /** What happens to the objects of the cache, called on the informer's thread. */
  public interface Listener {
    /** Added or changed (also for each object of every list). */
    default void changed(JsonNode object) {}

    /** Deleted, or gone from a list: its key in the cache. */
    default void deleted(String key) {}
  }

  private final KubeApi api;
  private final String name;
  private final String path;
  private final String query;
  private final Function<JsonNode, String> key;
  private final Function<JsonNode, T> read;
  private final Map<String, T> cache = new ConcurrentHashMap<>();
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();
  private final Thread thread;
  private final AtomicLong lastWarned = new AtomicLong(System.nanoTime() - QUIET_NANOS);
  private volatile boolean synced;
  private volatile boolean watching;
  private volatile boolean closed;
  private volatile InputStream watch;
  private volatile long lastHeard;
  private Duration silentAfter = SILENT_WATCH;
  // the informer's thread only: the wait before the next try; back to the first once a watch opens
  // (not after a list: a server that lists but refuses watches is not asked to list every second)
  private Duration backoff = FIRST_BACKOFF;

  /**
   * @param name what logs call it ("pods", "groups", "report")
   * @param path the collection, e.g. {@code /api/v1/pods}
   * @param selector a field selector ({@code spec.nodeName=n}), or null
   * @param key the cache's key of an object (its UID, or namespace/name)
   * @param read what the cache keeps of an object
   */
  public Informer(
      KubeApi api,
      String name,
      String path,
      String selector,
      Function<JsonNode, String> key,
      Function<JsonNode, T> read) {
    this.api = api;
    this.name = name;
    this.path = path;
    this.query =
        selector == null
            ? ""
            : "fieldSelector=" + URLEncoder.encode(selector, StandardCharsets.UTF_8) + "&";
    this.key = key;
    this.read = read;
    this.thread = new Thread(this::run, "informer-" + name);
    thread.setDaemon(true);
  }

  /** How long a watch may stay silent before it is closed and opened again (tests shorten it). */
  Informer<T> silentAfter(Duration silent) {
    this.silentAfter = silent;
    return this;
  }

  public Informer<T> listen(Listener listener) {
    listeners.add(listener);
    return this;
  }

  public Informer<T> start() {
    thread.start();
    return this;
  }

  /** Listed at least once. */
  public boolean hasSynced() {
    return synced;
  }

  /** A watch is open: the cache follows the server. */
  public boolean isWatching() {
    return watching;
  }

  /**
   * The informer follows the server no more: it was closed, or its thread ended (which it never
   * does on its own short of an Error).
   */
  public boolean stopped() {
    return thread.getState() == Thread.State.TERMINATED;
  }

  public T get(String key) {
    return cache.get(key);
  }

  public List<T> list() {
    return List.copyOf(cache.values());
  }

  /** {@code namespace/name}, the key of namespaced objects looked up by name. */
  public static String namespacedName(JsonNode object) {
    JsonNode meta = object.path("metadata");
    String ns = meta.path("namespace").asText("");
    return ns.isEmpty() ? meta.path("name").asText() : ns + "/" + meta.path("name").asText();
  }

  public static String uid(JsonNode object) {
    return object.path("metadata").path("uid").asText();
  }

  private void run() {
    while (!closed) {
      try {
        String version = relist();
        if (!synced) {
          log.info("informer synced informer={} path={}", name, path);
        }
        synced = true;
        while (!closed && version != null) {
          long opened = System.nanoTime();
          version = watch(version);
          if (version != null && System.nanoTime() - opened < FIRST_BACKOFF.toNanos() && !closed) {
            // a watch the server ends at once, again and again, would be reopened in a tight loop
            throw new IOException("watch " + path + " ended as soon as it opened");
          }
        }
      } catch (IOException | RuntimeException e) {
        watching = false;
        if (closed) {
          return;
        }
        warn(e);
        try {
          Thread.sleep(backoff.toMillis());
        } catch (InterruptedException ie) {
          if (closed) {
            return;
          }
        }
        backoff =
            backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0
                ? MAX_BACKOFF
                : backoff.multipliedBy(2);
      }
    }
  }

  private void warn(Exception e) {
    long now = System.nanoTime();
    long last = lastWarned.get();
    if (now - last >= QUIET_NANOS && lastWarned.compareAndSet(last, now)) {
      log.warn(
          "informer failing informer={} listedOnce={} reason=\"{}\"; retrying with backoff (1s doubling to 32s) until the "
              + "API server answers",
          name,
          synced,
          e.toString().replace('"', '\''));
    } else {
      log.debug("informer retry informer={} reason=\"{}\"", name, e.toString());
    }
  }

  /**
   * Lists the whole collection into the cache, a page at a time (only one page's objects are held
   * whole at once: every group of a large cluster would not fit the agent's heap); returns the
   * list's resourceVersion.
   */
  private String relist() {
    Set<String> seen = new HashSet<>();
    String cont = null;
    String version;
    do {
      JsonNode page =
          api.get(
              path
                  + "?"
                  + query
                  + "limit="
                  + PAGE
                  + (cont == null
                      ? ""
                      : "&continue=" + URLEncoder.encode(cont, StandardCharsets.UTF_8)));
      if (page == null) {
        throw new ApiException(404, "GET " + path + ": 404 (is the CRD installed?)", null);
      }
      for (JsonNode item : page.path("items")) {
        String k = key.apply(item);
        seen.add(k);
        cache.put(k, read.apply(item));
        changed(item);
      }
      version = page.path("metadata").path("resourceVersion").asText();
      cont = page.path("metadata").path("continue").asText("");
      cont = cont.isEmpty() ? null : cont;
    } while (cont != null);
    for (String gone : new ArrayList<>(cache.keySet())) {
      if (!seen.contains(gone)) {
        deleted(gone);
      }
    }
    return version;
  }

  /**
   * Follows one watch until the server ends it; returns the version to watch from next, or null
   * when the cache must be listed again (410 Gone).
   */
  private String watch(String version) throws IOException {
    InputStream stream =
        api.stream(
            path
                + "?"
                + query
                + "watch=1&allowWatchBookmarks=true&timeoutSeconds="
                + WATCH_SECONDS
                + "&resourceVersion="
                + URLEncoder.encode(version, StandardCharsets.UTF_8));
    watch = stream;
    if (closed) {
      // close() ran while the watch was opening and found none to close: a blocked socket read
      // does not end on an interrupt, so this one is closed here
      stream.close();
      watch = null;
      return null;
    }
    backoff = FIRST_BACKOFF;
    lastHeard = System.nanoTime();
    long check = Math.min(30_000, Math.max(100, silentAfter.toMillis() / 2));
    var guard =
        WATCHDOG.scheduleWithFixedDelay(this::closeIfSilent, check, check, TimeUnit.MILLISECONDS);
    watching = true;
    try (BufferedReader lines =
        new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
      String line;
      while ((line = lines.readLine()) != null) {
        lastHeard = System.nanoTime();
        if (line.isBlank()) {
          continue;
        }
        JsonNode event = Json.parse(line);
        JsonNode object = event.path("object");
        switch (event.path("type").asText()) {
          case "ADDED", "MODIFIED" -> {
            cache.put(key.apply(object), read.apply(object));
            changed(object);
          }
          case "DELETED" -> {
            deleted(key.apply(object));
          }
          case "BOOKMARK" -> {}
          case "ERROR" -> {
            if (object.path("code").asInt() == 410) {
              log.debug(
                  "informer relist informer={} reason=\"{}\"",
                  name,
                  object.path("message").asText());
              return null;
            }
            throw new ApiException(
                object.path("code").asInt(),
                "watch " + path + ": " + object.path("message").asText(),
                null);
          }
          default -> throw new IOException("watch " + path + ": unknown event " + line);
        }
        String v = object.path("metadata").path("resourceVersion").asText("");
        if (!v.isEmpty()) {
          version = v;
        }
      }
      return version;
    } finally {
      guard.cancel(false);
      watching = false;
      watch = null;
    }
  }

  private void closeIfSilent() {
    if (watch != null && System.nanoTime() - lastHeard > silentAfter.toNanos()) {
      log.warn(
          "informer watch silent informer={} for={}ms; opening it again",
          name,
          silentAfter.toMillis());
      closeWatch();
    }
  }

  /**
   * Closes the open watch, if any: its connection, so that a read blocked on it ends at once (an
   * interrupt would not end it: kube/Http1).
   */
  private void closeWatch() {
    InputStream open = watch;
    if (open != null) {
      try {
        open.close();
      } catch (IOException e) {
        // closing is all we wanted
      }
    }
  }

  private void changed(JsonNode object) {
    for (Listener l : listeners) {
      try {
        l.changed(object);
      } catch (RuntimeException e) {
        failed(namespacedName(object), e);
      }
    }
  }

  private void deleted(String gone) {
    cache.remove(gone);
    for (Listener l : listeners) {
      try {
        l.deleted(gone);
      } catch (RuntimeException e) {
        failed(gone, e);
      }
    }
  }

  private void failed(String object, RuntimeException e) {
    log.warn(
        "informer listener failed informer={} object={} reason=\"{}\"", name, object, e.toString());
  }

  @Override
  public void close() {
    closed = true;
    thread.interrupt(); // ends the wait before a retry
    closeWatch();
  }
}
