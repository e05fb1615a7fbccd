package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class ProgressBarTest {
  private static final long MS = 1_000_000L;
  private static final String ERASE = "\r\033[K";

  private final AtomicLong now = new AtomicLong(1_000 * MS);
  private final StringWriter out = new StringWriter();

  private ProgressBar bar(int columns) {
    return new ProgressBar(new PrintWriter(out), true, columns, now::get);
  }

  @Test
  void nothingShowsInTheFirstQuarterSecondThenBytesRateAndTimeLeft() {
    ProgressBar bar = bar(100);
    bar.progress("memory", 0, 1L << 30);
    now.addAndGet(200 * MS);
    bar.progress("memory", 100L << 20, 1L << 30);
    assertEquals("", out.toString(), "not before 0.25 s");
    now.addAndGet(800 * MS); // 1 s into the phase, 512 MiB done: 0.54 GB/s, 1 s left
    bar.progress("memory", 512L << 20, 1L << 30);
    String drawn = out.toString();
    assertTrue(drawn.startsWith(ERASE + "memory [###############               ]  50%  512.0 MiB/1.0"
        + " GiB  0.54 GB/s  1 s left"), drawn);
    bar.close();
    assertTrue(out.toString().endsWith(ERASE), "erased: " + out);
  }

  @ParameterizedTest
  @ValueSource(ints = {100, 72, 60, 45, 30, 12, 2})
  void aLineNeverReachesTheLastColumn(int columns) {
    ProgressBar bar = bar(columns);
    bar.progress("kfd vram", 0, 3L << 30);
    now.addAndGet(2_000 * MS);
    String line = bar.line("kfd vram", 1L << 30, 3L << 30, now.get());
    assertTrue(line.length() < columns, () -> line.length() + " >= " + columns + ": " + line);
    if (columns >= 45) {
      assertTrue(line.contains("[") && line.contains(" 33%"), line);
    }
    if (columns >= 100) {
      assertTrue(line.endsWith("1.0 GiB/3.0 GiB  0.54 GB/s  4 s left"), line);
    }
  }

  @Test
  void aBarThatWasNeverDrawnLeavesNothing() {
    ProgressBar bar = new ProgressBar(new PrintWriter(out), false, 80, now::get);
    now.addAndGet(5_000 * MS);
    bar.progress("memory", 1, 2);
    bar.close();
    assertEquals("", out.toString());
  }
}
