package dev.accr.kernel;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Something a process can sleep on between steps (a pipe that gets bytes or loses its last
 * writer, a child that exits): a version that every change advances, and the threads to wake.
 */
final class WaitEvent {
  private final AtomicLong version = new AtomicLong();
  private final Set<Thread> sleepers = ConcurrentHashMap.newKeySet();

  long version() {
    return version.get();
  }

  /** Records a change and wakes whoever sleeps on it. */
  void signal() {
    version.incrementAndGet();
    for (Thread t : sleepers) {
      LockSupport.unpark(t);
    }
  }

  void addSleeper(Thread t) {
    sleepers.add(t);
  }

  void removeSleeper(Thread t) {
    sleepers.remove(t);
  }
}
