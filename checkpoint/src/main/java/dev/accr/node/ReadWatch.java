package dev.accr.node;

import java.io.IOException;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Ends a read that has waited too long. Reads of a UNIX socket cannot time out, so a peer that
 * stops sending but keeps its socket open (a hung node) would hold its reader for ever; a TCP
 * socket's timeout only wakes the reader. The reader marks each wait ({@link #waiting},
 * {@link #over}); once one has lasted the limit with nothing heard meanwhile on the connections
 * whose peer's silence the reader shares (the other streams of an image set), a watch
 * thread stops the input and the reader, its read ended or failed, learns from
 * {@link #expired} why.
 */
final class ReadWatch implements AutoCloseable {
  private final Duration limit;
  private final Inbound.Stop stop;
  private final LongSupplier lastHeard;
  private final Thread watch;
  /** When the wait under way began, or 0 when the reader is not waiting. */
  private volatile long waitingSince;
  private volatile boolean expired;
  private volatile boolean closed;

  /**
   * Starts watching the reads of an input that {@code stop} ends; {@code lastHeard}: the
   * {@link System#nanoTime} at which bytes last came from the peer, on any connection.
   */
  ReadWatch(String name, Duration limit, Inbound.Stop stop, LongSupplier lastHeard) {
    this.limit = limit;
    this.stop = stop;
    this.lastHeard = lastHeard;
    this.watch = Thread.ofVirtual().name(name + "-watch").start(this::watch);
  }

  /** A wait for the next bytes begins. */
  void waiting() {
    waitingSince = System.nanoTime() | 1; // never 0
  }

  /** The wait is over: bytes came, or the read ended. */
  void over() {
    waitingSince = 0;
  }

  /** Whether the input was stopped because a wait lasted the limit. */
  boolean expired() {
    return expired;
  }

  Duration limit() {
    return limit;
  }

  private void watch() {
    long limitNanos = limit.toNanos();
    // Noticed within a quarter of the limit, and at least every second.
    long tick = Math.clamp(limit.toMillis() / 4, 1, 1000);
    try {
      while (!closed) {
        Thread.sleep(tick);
        long since = waitingSince;
        if (!closed && since != 0
            && System.nanoTime() - Math.max(since, lastHeard.getAsLong()) >= limitNanos) {
          expired = true;
          try {
            stop.stop();
          } catch (IOException | RuntimeException ignored) {
            // Stopped either way: the read under way fails.
          }
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
    watch.interrupt();
  }
}
