package dev.accr.image;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A test hook on the steps that make an image set durable: every file created, chunk written,
 * file or directory synced and rename is one numbered step. Off unless the JVM is started with
 * {@code -Daccr.fault.haltAfterWrites=N}: then each step is logged on stderr and the JVM halts
 * (like a SIGKILL: no finally blocks, no shutdown hooks) at step N, so that a test can kill a
 * dumping node at a chosen point. {@code -Daccr.fault.stepDelayMs=MS} slows every step down
 * instead, so that a test can act while a dump is in progress. Read once, when the class loads.
 */
public final class FaultInjection {
  private static final long HALT_AFTER = Long.getLong("accr.fault.haltAfterWrites", 0);
  private static final long STEP_DELAY_MS = Long.getLong("accr.fault.stepDelayMs", 0);
  private static final boolean ENABLED = HALT_AFTER > 0 || STEP_DELAY_MS > 0;
  private static final AtomicLong STEPS = new AtomicLong();

  /** Exit status of a halted JVM, as after SIGKILL. */
  public static final int HALT_STATUS = 137;

  private FaultInjection() {}

  /** True when a fault property was given: writers then split their steps finely. */
  public static boolean enabled() {
    return ENABLED;
  }

  /** Counts one step, about to happen; halts or waits as the properties say. */
  public static void step(String what) {
    if (!ENABLED) {
      return;
    }
    long n = STEPS.incrementAndGet();
    System.err.printf("accr fault step %d: %s%n", n, what);
    if (n == HALT_AFTER) {
      System.err.flush();
      Runtime.getRuntime().halt(HALT_STATUS);
    }
    if (STEP_DELAY_MS > 0) {
      try {
        Thread.sleep(STEP_DELAY_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
