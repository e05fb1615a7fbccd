package dev.accr.node;

import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Closes a connection that has not delivered its request in time; until then it holds its
 * pending slot, which is released exactly once: when the deadline fires or when it is
 * cancelled, whichever comes first. A TLS connection's deadline starts as its handshake
 * allowance and is restarted, for the request, once the handshake is done.
 */
final class RequestDeadline {
  private final ScheduledExecutorService timers;
  private final Closeable connection;
  private final PendingSlots.Slot slot;
  private ScheduledFuture<?> timer;
  /** Counts restarts: a timer of an earlier term that fires late does nothing. */
  private int term;
  private boolean done;
  private boolean expired;

  RequestDeadline(ScheduledExecutorService timers, Duration timeout, Closeable connection,
      PendingSlots.Slot slot) {
    this.timers = timers;
    this.connection = connection;
    this.slot = slot;
    synchronized (this) {
      timer = schedule(timeout);
    }
  }

  private ScheduledFuture<?> schedule(Duration timeout) {
    int scheduled = term;
    return timers.schedule(() -> expire(scheduled), timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  private void expire(int scheduled) {
    synchronized (this) {
      if (done || scheduled != term) {
        return;
      }
      done = true;
      expired = true;
    }
    slot.release();
    try {
      connection.close();
    } catch (IOException ignored) {
      // Closing a connection that timed out.
    }
  }

  /**
   * Gives the connection {@code timeout} from now instead of what was left; false when the
   * deadline has already fired (the connection is closed) or was cancelled.
   */
  synchronized boolean restart(Duration timeout) {
    if (done) {
      return false;
    }
    timer.cancel(false);
    term++;
    timer = schedule(timeout);
    return true;
  }

  /** Stops the timer; false when it has already fired. */
  boolean cancel() {
    synchronized (this) {
      if (done) {
        return !expired;
      }
      done = true;
      timer.cancel(false);
    }
    slot.release();
    return true;
  }

  synchronized boolean expired() {
    return expired;
  }

  /** Whether the request is still awaited: neither in nor timed out. */
  synchronized boolean waiting() {
    return !done;
  }
}
