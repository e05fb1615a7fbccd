package dev.accr.cli;

import java.util.Locale;

/** Human-readable rates (sizes: {@link dev.accr.api.Sizes}). */
final class Units {
  private Units() {}

  /** Throughput in GB/s (decimal, as storage vendors and CRIU's numbers use). */
  static String rate(long bytes, long micros) {
    return micros <= 0 ? "-"
        : String.format(Locale.ROOT, "%.2f GB/s", bytes / (micros * 1000.0));
  }
}
