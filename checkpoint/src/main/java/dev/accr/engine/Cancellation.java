package dev.accr.engine;

import dev.accr.image.ProgressListener;

/**
 * Asked by a dump or restore, at safe points and with every progress report, whether to stop.
 * {@link #check()} throws to stop; the operation then fails as on any other error: a dump leaves
 * its process running as it was and no image set, a restore leaves nothing behind.
 */
@FunctionalInterface
public interface Cancellation {
  Cancellation NONE = () -> {};

  /** Throws (an {@code AccrException}) when the operation is to stop. */
  void check();

  /** Whether {@link #check()} would throw: for waits that poll. */
  default boolean requested() {
    try {
      check();
      return false;
    } catch (RuntimeException e) {
      return true;
    }
  }

  /** {@code progress}, asking this cancellation first at every report. */
  default ProgressListener checking(ProgressListener progress) {
    return (phase, done, total) -> {
      check();
      progress.progress(phase, done, total);
    };
  }
}
