package dev.accr.cli;

/** Human-readable sizes and rates. */
final class Units {
  private Units() {}

  static String bytes(long n) {
    if (n < 1024) {
      return n + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double v = n;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format("%.1f %s", v, units[u]);
  }

  /** Throughput in GB/s (decimal, as storage vendors and CRIU's numbers use). */
  static String rate(long bytes, long micros) {
    return micros <= 0 ? "-" : String.format("%.2f GB/s", bytes / (micros * 1000.0));
  }
}
