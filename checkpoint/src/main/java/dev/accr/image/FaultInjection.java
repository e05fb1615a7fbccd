package dev.accr.image;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A test hook on the steps that make an image set durable: every file created, chunk written,
 * file or directory synced and rename is one numbered step. Off unless the JVM is started with
 * {@code -Daccr.fault.haltAfterWrites=N}: then each step is logged on stderr and the JVM halts
 * (like a SIGKILL: no finally blocks, no shutdown hooks) at step N, so that a test can kill a
 * dumping node at a chosen point; {@code -Daccr.fault.haltAt=K:TEXT} halts at the K-th step
 * whose description contains TEXT (e.g. {@code 2:mid-chunk}, {@code 1:rename}), a point that
 * does not depend on how many files or chunks come before it. Descriptions are
 * {@code what:where} without spaces (e.g. {@code create:core-1000.img}, {@code sync-dir:DIR}).
 * {@code -Daccr.fault.stepDelayMs=MS} slows every step down instead, so that a test can act
 * while a dump is in progress. Read once, when the class loads.
 */
public final class FaultInjection {
  private static final long HALT_AFTER = Long.getLong("accr.fault.haltAfterWrites", 0);
  private static final long STEP_DELAY_MS = Long.getLong("accr.fault.stepDelayMs", 0);
  private static final String HALT_AT = System.getProperty("accr.fault.haltAt", "");
  private static final long HALT_AT_COUNT = haltAtCount(HALT_AT);
  private static final String HALT_AT_TEXT = HALT_AT.substring(HALT_AT.indexOf(':') + 1);
  private static final boolean ENABLED = HALT_AFTER > 0 || HALT_AT_COUNT > 0 || STEP_DELAY_MS > 0;
  private static final AtomicLong STEPS = new AtomicLong();
  private static final AtomicLong MATCHED = new AtomicLong();

  /** Exit status of a halted JVM, as after SIGKILL. */
  public static final int HALT_STATUS = 137;

  private FaultInjection() {}

  private static long haltAtCount(String spec) {
    int colon = spec.indexOf(':');
    try {
      return colon > 0 ? Long.parseLong(spec.substring(0, colon)) : 0;
    } catch (NumberFormatException e) {
      return 0;
    }
  }

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
    boolean haltHere = n == HALT_AFTER || HALT_AT_COUNT > 0 && what.contains(HALT_AT_TEXT)
        && MATCHED.incrementAndGet() == HALT_AT_COUNT;
    if (haltHere) {
      System.err.printf("accr fault: halting before %s%n", what);
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
