package dev.accr.cli;

import dev.accr.image.ProgressListener;
import java.io.PrintWriter;

/**
 * A one-line progress bar on the terminal, drawn only when stderr is a terminal and the
 * operation has taken longer than a second.
 */
final class ProgressBar implements ProgressListener, AutoCloseable {
  private static final long SHOW_AFTER_NANOS = 1_000_000_000L;
  private static final int WIDTH = 30;

  private final PrintWriter err;
  private final boolean enabled;
  private final long start = System.nanoTime();
  private boolean drawn;

  private ProgressBar(PrintWriter err, boolean enabled) {
    this.err = err;
    this.enabled = enabled;
  }

  static ProgressBar onTerminal(PrintWriter err) {
    return new ProgressBar(err, System.console() != null && System.console().isTerminal());
  }

  @Override
  public synchronized void progress(String phase, long done, long total) {
    if (!enabled || total <= 0 || System.nanoTime() - start < SHOW_AFTER_NANOS) {
      return;
    }
    int filled = (int) Math.min(WIDTH, done * WIDTH / total);
    err.printf("\r%-8s [%s%s] %3d%%", phase, "#".repeat(filled), " ".repeat(WIDTH - filled),
        done * 100 / total);
    err.flush();
    drawn = true;
  }

  @Override
  public synchronized void close() {
    if (drawn) {
      err.print("\r" + " ".repeat(WIDTH + 20) + "\r");
      err.flush();
    }
  }
}
