package dev.accr.engine;

import dev.accr.proto.PhaseTimeEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * Times the phases of one dump or restore, one after the other, and logs each as it begins
 * (TRACE) and ends (DEBUG), so that the operation's log shows where the time went.
 */
public final class PhaseClock {
  private static final Logger LOG = Logger.getLogger(PhaseClock.class.getName());

  private final String operation;
  private final long start;
  private final List<PhaseTimeEntry> ended = new ArrayList<>();
  private String current;
  private long currentStart;

  private PhaseClock(String operation, long start) {
    this.operation = operation;
    this.start = start;
  }

  /** A clock of {@code operation} starting now. */
  public static PhaseClock start(String operation) {
    return new PhaseClock(operation, System.nanoTime());
  }

  /**
   * A clock of {@code operation} that started at {@code startNanos} ({@link System#nanoTime})
   * and has been in {@code phase} since.
   */
  public static PhaseClock since(String operation, long startNanos, String phase) {
    PhaseClock c = new PhaseClock(operation, startNanos);
    c.current = phase;
    c.currentStart = startNanos;
    return c;
  }

  /** Ends the current phase, if any, and begins {@code phase}. */
  public synchronized void begin(String phase) {
    end();
    current = phase;
    currentStart = System.nanoTime();
    LOG.finest(() -> operation + ": " + phase);
  }

  /** Ends the current phase, if any. */
  public synchronized void end() {
    if (current == null) {
      return;
    }
    long us = (System.nanoTime() - currentStart) / 1000;
    ended.add(PhaseTimeEntry.newBuilder().setPhase(current).setTimeUs(us).build());
    String phase = current;
    LOG.fine(() -> String.format("%s: %s done in %.1f ms", operation, phase, us / 1000.0));
    current = null;
  }

  /** The phases ended so far, in order. */
  public synchronized List<PhaseTimeEntry> phases() {
    return List.copyOf(ended);
  }

  /** Microseconds since the clock started. */
  public long elapsedUs() {
    return (System.nanoTime() - start) / 1000;
  }
}
