package dev.accr.node;

import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Closes a connection that has not delivered its request in time; until then it holds its
 * pending slot.
 */
final class RequestDeadline {
  private final AtomicBoolean done = new AtomicBoolean();
  private final AtomicBoolean expired = new AtomicBoolean();
  private final ScheduledFuture<?> timer;
  private final PendingSlots.Slot slot;

  RequestDeadline(ScheduledExecutorService timers, Duration timeout, Closeable connection,
      PendingSlots.Slot slot) {
    this.slot = slot;
    timer = timers.schedule(() -> {
      if (done.compareAndSet(false, true)) {
        expired.set(true);
        slot.release();
        try {
          connection.close();
        } catch (IOException ignored) {
          // Closing a connection that timed out.
        }
      }
    }, timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Stops the timer; false when it has already fired. */
  boolean cancel() {
    if (done.compareAndSet(false, true)) {
      timer.cancel(false);
      slot.release();
      return true;
    }
    return !expired.get();
  }

  boolean expired() {
    return expired.get();
  }
}
