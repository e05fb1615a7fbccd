package dev.accr.kernel;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * What a process's step found it would have to wait for (each with the version it saw): after
 * the step, the process sleeps until one of them changes. A bounded sleep: a missed wake-up
 * costs a little time, never progress.
 */
final class StepWaits {
  static final long MAX_SLEEP_MS = 100;

  private final List<WaitEvent> events = new ArrayList<>();
  private final List<Long> seen = new ArrayList<>();

  /** Notes that the step would wait on {@code event}, whose version was {@code version}. */
  synchronized void note(WaitEvent event, long version) {
    events.add(event);
    seen.add(version);
  }

  synchronized void clear() {
    events.clear();
    seen.clear();
  }

  /** Whether the last step would have waited. */
  synchronized boolean blocked() {
    return !events.isEmpty();
  }

  /**
   * Sleeps until one of the noted events changes, the thread is interrupted, or {@link
   * #MAX_SLEEP_MS}; returns at once when nothing was noted or something already changed.
   */
  void sleep() {
    List<WaitEvent> on;
    List<Long> versions;
    synchronized (this) {
      if (events.isEmpty()) {
        return;
      }
      on = List.copyOf(events);
      versions = List.copyOf(seen);
    }
    Thread me = Thread.currentThread();
    on.forEach(e -> e.addSleeper(me));
    try {
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MAX_SLEEP_MS);
      while (!changed(on, versions) && !me.isInterrupted()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          break;
        }
        LockSupport.parkNanos(this, left);
      }
    } finally {
      on.forEach(e -> e.removeSleeper(me));
    }
  }

  private static boolean changed(List<WaitEvent> on, List<Long> versions) {
    for (int i = 0; i < on.size(); i++) {
      if (on.get(i).version() != versions.get(i)) {
        return true;
      }
    }
    return false;
  }
}
