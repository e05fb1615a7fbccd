package dev.accr.cli;

import dev.accr.api.Sizes;
import dev.accr.image.ProgressListener;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A one-line progress bar on the terminal: phase, bar, percentage, bytes done of the total,
 * rate and time left. Drawn only when stderr is a terminal and the operation has taken longer
 * than a quarter of a second; fitted to the terminal's width (it never wraps: the parts that do
 * not fit are left out, the least useful first) and erased without a trace.
 */
final class ProgressBar implements ProgressListener, AutoCloseable {
  static final long SHOW_AFTER_NANOS = 250_000_000L;
  private static final String ERASE = "\r\033[K";
  private static final int MIN_BAR = 10;
  private static final int MAX_BAR = 30;

  private final PrintWriter err;
  private final boolean enabled;
  private final LongSupplier clock;
  /** Asked of the terminal at the first draw: 0 until then. */
  private int columns;
  private final long start;
  private String phase;
  private long phaseStart;
  private long phaseFirstDone;
  private boolean drawn;

  ProgressBar(PrintWriter err, boolean enabled, int columns, LongSupplier clock) {
    this.err = err;
    this.enabled = enabled;
    this.columns = columns;
    this.clock = clock;
    this.start = clock.getAsLong();
  }

  /** A bar on {@code err} when standard error is a terminal and {@code log} does not use it. */
  static ProgressBar onTerminal(PrintWriter err, CliLog log) {
    boolean terminal = System.console() != null && System.console().isTerminal()
        && !log.onTerminal();
    return new ProgressBar(err, terminal, 0, System::nanoTime);
  }

  @Override
  public synchronized void progress(String phase, long done, long total) {
    long now = clock.getAsLong();
    if (!phase.equals(this.phase)) {
      this.phase = phase;
      phaseStart = now;
      phaseFirstDone = done;
    }
    if (!enabled || total <= 0 || now - start < SHOW_AFTER_NANOS) {
      return;
    }
    if (columns <= 0) {
      columns = terminalColumns();
    }
    err.print(ERASE + line(phase, Math.min(done, total), total, now));
    err.flush();
    drawn = true;
  }

  /** The line for {@code done} of {@code total}: at most {@code columns - 1} characters. */
  String line(String phase, long done, long total, long now) {
    String label = phase.length() > 20 ? phase.substring(0, 20) : phase;
    String percent = String.format(Locale.ROOT, "%3d%%", done * 100 / total);
    String sizes = Sizes.bytes(done) + "/" + Sizes.bytes(total);
    double seconds = (now - phaseStart) / 1e9;
    long moved = done - phaseFirstDone;
    String rate = "";
    String left = "";
    if (seconds > 0.05 && moved > 0) {
      double perSecond = moved / seconds;
      rate = String.format(Locale.ROOT, "%.2f GB/s", perSecond / 1e9);
      left = duration((long) ((total - done) / perSecond)) + " left";
    }
    String[] optional = {sizes, rate, left}; // left out from the end when short of room
    int room = columns - 1;
    for (int keep = optional.length; keep >= 0; keep--) {
      StringBuilder tail = new StringBuilder(percent);
      for (int i = 0; i < keep; i++) {
        if (!optional[i].isEmpty()) {
          tail.append("  ").append(optional[i]);
        }
      }
      int barWidth = Math.min(MAX_BAR, room - label.length() - tail.length() - 4);
      if (barWidth >= MIN_BAR) {
        int filled = (int) (done * barWidth / total);
        return label + " [" + "#".repeat(filled) + " ".repeat(barWidth - filled) + "] " + tail;
      }
    }
    String bare = label + " " + percent;
    return bare.length() <= room ? bare : bare.substring(0, Math.max(0, room));
  }

  private static String duration(long seconds) {
    return seconds < 60 ? seconds + " s"
        : String.format(Locale.ROOT, "%d:%02d min", seconds / 60, seconds % 60);
  }

  /** Erases the bar, if drawn: the line is as it was before. */
  synchronized void erase() {
    if (drawn) {
      err.print(ERASE);
      err.flush();
      drawn = false;
    }
  }

  @Override
  public synchronized void close() {
    erase();
  }

  /** The terminal's width: $COLUMNS, else what stty says of /dev/tty, else 80. */
  static int terminalColumns() {
    String env = System.getenv("COLUMNS");
    if (env != null && env.matches("[0-9]{1,4}") && Integer.parseInt(env) > 0) {
      return Integer.parseInt(env);
    }
    try {
      Process p = new ProcessBuilder("stty", "size").redirectInput(
          ProcessBuilder.Redirect.from(new java.io.File("/dev/tty"))).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
      if (p.waitFor(1, TimeUnit.SECONDS) && p.exitValue() == 0
          && out.strip().matches("[0-9]+ [0-9]+")) {
        int cols = Integer.parseInt(out.strip().split(" ")[1]);
        return cols > 0 ? cols : 80;
      }
    } catch (IOException e) {
      return 80;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 80;
  }
}
