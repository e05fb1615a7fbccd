package dev.accr.node;

import java.io.DataOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * Keeps one end of a post-copy connection ({@link PageFrames}) honest: it sends a heartbeat
 * frame every {@link Timing#heartbeat()}, whatever else is under way, and gives up on the peer
 * when nothing at all has come from it for {@link Timing#silence()}: a peer that died without
 * closing its socket (a host gone, a cable cut, a hung node) or a client that sends nothing
 * cannot hold this end for longer. The reader of the connection calls {@link #heard()} for
 * every frame.
 */
final class LinkWatch implements AutoCloseable {
  /** How often each end sends a heartbeat, and how long a silent peer is waited for. */
  record Timing(Duration heartbeat, Duration silence) {
    /** A heartbeat a second; a peer silent for 10 s is lost. */
    static final Timing DEFAULT = new Timing(Duration.ofSeconds(1), Duration.ofSeconds(10));

    Timing {
      if (heartbeat.isNegative() || heartbeat.isZero() || silence.compareTo(heartbeat) <= 0) {
        throw new IllegalArgumentException("post-copy timing: heartbeat " + heartbeat
            + " must be positive and shorter than the silence limit " + silence);
      }
    }
  }

  private final Timing timing;
  private final DataOutputStream out;
  private final Consumer<String> onSilence;
  private volatile long lastHeard = System.nanoTime();
  private volatile boolean closed;
  private final Thread beat;
  private final Thread watch;

  /**
   * Starts watching: heartbeats go to {@code out} (under its lock, as every frame), and
   * {@code onSilence} is told why once the peer has been silent too long.
   */
  LinkWatch(String name, Timing timing, DataOutputStream out, Consumer<String> onSilence) {
    this.timing = timing;
    this.out = out;
    this.onSilence = onSilence;
    // Two threads: a heartbeat stuck behind a write the peer does not read must not keep the
    // silence from being noticed.
    this.beat = Thread.ofVirtual().name(name + "-heartbeat").start(this::beat);
    this.watch = Thread.ofVirtual().name(name + "-watch").start(this::watch);
  }

  /** Something came from the peer. */
  void heard() {
    lastHeard = System.nanoTime();
  }

  private void beat() {
    try {
      while (!closed) {
        Thread.sleep(timing.heartbeat());
        synchronized (out) {
          if (closed) {
            return;
          }
          out.writeByte(PageFrames.HEARTBEAT);
          out.flush();
        }
      }
    } catch (IOException | InterruptedException e) {
      // The connection ended; its reader says why.
    }
  }

  private void watch() {
    long limit = timing.silence().toNanos();
    Duration tick = timing.heartbeat().dividedBy(2);
    try {
      while (!closed) {
        Thread.sleep(tick);
        long quiet = System.nanoTime() - lastHeard;
        if (!closed && quiet > limit) {
          closed = true;
          onSilence.accept(String.format(java.util.Locale.ROOT,
              "nothing came from it for %.1f s", quiet / 1e9));
          return;
        }
      }
    } catch (InterruptedException e) {
      // closed
    }
  }

  @Override
  public void close() {
    closed = true;
    beat.interrupt();
    watch.interrupt();
  }
}
