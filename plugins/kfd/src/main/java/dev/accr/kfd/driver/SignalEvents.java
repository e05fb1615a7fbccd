package dev.accr.kfd.driver;

import dev.accr.api.AccrException;
import java.util.Map;
import java.util.TreeMap;

/**
 * A process's signal events. An event counts its signals; waiters (the host, or a queue's
 * WAIT packet) wait until the count reaches a target. Counting rather than a flag keeps
 * waits deterministic however far the device runs ahead.
 */
final class SignalEvents {
  static final int TYPE_SIGNAL = 1;

  private final TreeMap<Integer, Long> counts = new TreeMap<>();
  private int nextId = 1;

  synchronized int create() {
    int id = nextId++;
    counts.put(id, 0L);
    return id;
  }

  synchronized void restore(int id, long count) {
    if (id <= 0 || counts.containsKey(id)) {
      throw AccrException.failed("kfd: event %d cannot be restored (taken or invalid)", id);
    }
    counts.put(id, count);
    nextId = Math.max(nextId, id + 1);
  }

  synchronized void signal(int id) {
    Long c = counts.get(id);
    if (c == null) {
      throw AccrException.failed("kfd: signal of unknown event %d", id);
    }
    counts.put(id, c + 1);
    notifyAll();
  }

  synchronized long count(int id) {
    Long c = counts.get(id);
    if (c == null) {
      throw AccrException.failed("kfd: unknown event %d", id);
    }
    return c;
  }

  /** Waits up to {@code millis} for the count to reach {@code target}; returns whether it did. */
  synchronized boolean await(int id, long target, long millis) throws InterruptedException {
    long deadline = System.currentTimeMillis() + millis;
    while (count(id) < target) {
      long left = deadline - System.currentTimeMillis();
      if (left <= 0) {
        return false;
      }
      wait(left);
    }
    return true;
  }

  synchronized Map<Integer, Long> snapshot() {
    return new TreeMap<>(counts);
  }

  synchronized int nextId() {
    return nextId;
  }

  synchronized void setNextId(int id) {
    nextId = Math.max(nextId, id);
  }

  /** Wakes waiters so they notice a state change (a queue fault, a pause). */
  synchronized void wakeAll() {
    notifyAll();
  }
}
