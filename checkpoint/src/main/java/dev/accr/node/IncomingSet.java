package dev.accr.node;

import dev.accr.api.AccrException;
import dev.accr.api.CorruptImageException;
import dev.accr.image.ImageSetWriter;
import dev.accr.image.StreamedFileCheck;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * One image set being received, over its first connection and the streams that joined it
 * ({@link SetFrames}): what they share. File names and numbers are unique across the streams;
 * the first connection commits only once every joined stream ended whole, and a set dropped
 * for any reason stops the streams still running and waits for them, so that nothing writes
 * into its directory any more when it is removed.
 */
final class IncomingSet {
  /** How long a dropped set waits for its streams to stop. */
  private static final long STOP_WAIT_MILLIS = 30_000;

  private final ImageSetWriter writer;
  private final Caller sender;
  private final int joinable;
  private final String shownAs;
  private final Duration idleLimit;
  private final Set<String> names = new HashSet<>();
  private final Map<Integer, ReceivedFile> files = new HashMap<>();
  private final List<Inbound> joined = new ArrayList<>();
  private final AtomicLong received = new AtomicLong();
  /** When bytes last came on any stream ({@link System#nanoTime}). */
  private volatile long lastHeard = System.nanoTime();
  private int running;
  private int ended;
  private RuntimeException failure;
  private RuntimeException dropped;
  private boolean closed;

  /**
   * A set written by {@code writer}, which {@code joinable} more streams may join, whose sender
   * may send nothing for at most {@code idleLimit}.
   */
  IncomingSet(ImageSetWriter writer, Caller sender, int joinable, String shownAs,
      Duration idleLimit) {
    this.writer = writer;
    this.sender = sender;
    this.joinable = joinable;
    this.shownAs = shownAs;
    this.idleLimit = idleLimit;
  }

  /** How long the sender may send nothing on any stream. */
  Duration idleLimit() {
    return idleLimit;
  }

  ImageSetWriter writer() {
    return writer;
  }

  /** Where the files go until the commit. */
  Path directory() {
    return writer.directory();
  }

  String shownAs() {
    return shownAs;
  }

  long received() {
    return received.get();
  }

  void addReceived(long bytes) {
    received.addAndGet(bytes);
  }

  /** Bytes came on a stream of the set. */
  void heard() {
    lastHeard = System.nanoTime();
  }

  long lastHeard() {
    return lastHeard;
  }

  /** A file of the set as it arrives: its frames are taken in turn, from any stream. */
  static final class ReceivedFile {
    final String name;
    final FileChannel channel;
    final StreamedFileCheck check;
    /** The turn of the file's next frame (its Open was turn 0). */
    private int next = 1;
    private boolean complete;

    ReceivedFile(String name, FileChannel channel, StreamedFileCheck check) {
      this.name = name;
      this.channel = channel;
      this.check = check;
    }
  }

  /** Claims file number {@code file} named {@code name}: each is used once in a set. */
  synchronized void claim(int file, String name) {
    if (!names.add(name) || files.containsKey(file)) {
      throw new CorruptImageException(name, "sent twice");
    }
  }

  /** File {@code file}, claimed before, is open: its frames can be taken. */
  synchronized void opened(int file, ReceivedFile f) {
    files.put(file, f);
    notifyAll();
  }

  /**
   * Waits for the turn {@code turn} of file {@code file} (-1: its next frame, whatever it is,
   * as on one stream) and returns the file; the caller takes the frame, then calls
   * {@link #done}. A frame of a file never opened, or of a turn gone by, is corrupt.
   */
  synchronized ReceivedFile awaitTurn(int file, int turn, boolean waitForOpen) {
    Silence silence = new Silence();
    while (true) {
      checkRunning();
      ReceivedFile f = files.get(file);
      if (f != null && f.complete) {
        throw new CorruptImageException(f.name, "a frame after the file was closed");
      }
      if (f != null && (turn < 0 || turn == f.next)) {
        return f;
      }
      if (f != null && turn < f.next) {
        throw new CorruptImageException(f.name, "frame " + turn + " sent twice");
      }
      if (f == null && !waitForOpen) {
        throw new CorruptImageException(shownAs, "frame for file " + file + ", which is not"
            + " open");
      }
      silence.await(() -> "frame " + turn + " of file " + file + " did not come");
    }
  }

  /** The frame of {@code f} taken in its turn; {@code last}: it closed the file. */
  synchronized void done(ReceivedFile f, boolean last) {
    f.next++;
    f.complete |= last;
    notifyAll();
  }

  /** Fails when a file of the set was not closed. */
  synchronized void checkComplete() {
    for (ReceivedFile f : files.values()) {
      if (!f.complete) {
        throw new CorruptImageException(f.name, "not complete when the set was committed");
      }
    }
  }

  /** Ends a wait once the set failed or is over. */
  private void checkRunning() {
    if (dropped != null || failure != null || closed) {
      throw AccrException.failed("receiving %s: the set failed on another stream", shownAs);
    }
  }

  /**
   * Adds a stream on {@code inbound} of {@code caller}: false when the caller is not the
   * sender, every stream has joined, or the set is over.
   */
  synchronized boolean join(Caller caller, Inbound inbound) {
    if (closed || failure != null || joined.size() >= joinable
        || caller.remote() != sender.remote() || !caller.identity().equals(sender.identity())) {
      return false;
    }
    joined.add(inbound);
    running++;
    return true;
  }

  /** A joined stream ended whole. */
  synchronized void ended() {
    running--;
    ended++;
    notifyAll();
  }

  /** A joined stream failed: the set cannot be committed. */
  synchronized void failed(Exception e) {
    running--;
    if (failure == null) {
      failure = asFailure(e);
    }
    notifyAll();
  }

  /** The first connection failed with {@code e}: the set is dropped for that reason. */
  synchronized void drop(Exception e) {
    if (dropped == null) {
      dropped = asFailure(e);
    }
    notifyAll();
  }

  /** Why the first connection dropped the set, or null: what its stopped streams answer. */
  synchronized RuntimeException dropped() {
    return dropped;
  }

  private RuntimeException asFailure(Exception e) {
    return e instanceof RuntimeException r ? r : AccrException.failed("receiving %s: %s",
        shownAs, e.getMessage());
  }

  /**
   * At the commit: waits for the joined streams to end (a sender ends them all before it
   * commits) and throws the first failure, or fails when a stream did not come at all.
   */
  synchronized void awaitStreams() {
    Silence silence = new Silence();
    while (running > 0 && failure == null) {
      silence.await(() -> "a stream of the set was silent");
    }
    if (failure != null) {
      throw failure;
    }
    if (ended < joinable) {
      throw new CorruptImageException(shownAs, "committed after " + (ended + 1) + " of its "
          + (joinable + 1) + " streams");
    }
  }

  /**
   * The set is committed or dropped: no stream joins any more, those still running are
   * stopped, and this returns once they have (or after a bound).
   */
  synchronized void close() {
    closed = true;
    notifyAll();
    try {
      stopStreams();
    } finally {
      for (ReceivedFile f : files.values()) {
        try {
          f.channel.close();
        } catch (IOException ignored) {
          // Closed either way.
        }
      }
    }
  }

  private void stopStreams() {
    if (running == 0) {
      return;
    }
    for (Inbound in : joined) {
      try {
        in.stop().stop();
      } catch (IOException | RuntimeException ignored) {
        // Stopped either way: the read under way fails.
      }
    }
    long deadline = System.currentTimeMillis() + STOP_WAIT_MILLIS;
    while (running > 0 && System.currentTimeMillis() < deadline) {
      try {
        wait(Math.max(1, deadline - System.currentTimeMillis()));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** A wait on this set that fails once nothing came on any stream for the idle limit. */
  private final class Silence {
    private final long since = System.nanoTime();

    /**
     * Waits up to a second, or a quarter of the idle limit (the caller holds the set's lock);
     * {@code what}: the failure.
     */
    void await(Supplier<String> what) {
      try {
        IncomingSet.this.wait(Math.clamp(idleLimit.toMillis() / 4, 1, 1000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw AccrException.failed("receiving %s: interrupted", shownAs);
      }
      if (System.nanoTime() - Math.max(since, lastHeard) > idleLimit.toNanos()) {
        throw new SenderSilent(shownAs, what.get() + " for " + ServerLimits.seconds(idleLimit));
      }
    }
  }
}
