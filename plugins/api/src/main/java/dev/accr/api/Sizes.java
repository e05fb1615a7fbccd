package dev.accr.api;

import java.util.Locale;

/**
 * Sizes for people, one notation in every tool and report (API version 4): plugins use it in
 * their labels and report cells as the core does in its own output.
 */
public final class Sizes {
  private static final String[] UNITS = {"KiB", "MiB", "GiB", "TiB"};

  private Sizes() {}

  /** Exact below 10 KiB, else KiB, MiB, GiB or TiB with one decimal: {@code 64.9 MiB}. */
  public static String bytes(long n) {
    if (n < 10 * 1024) {
      return n + " B";
    }
    double v = n / 1024.0;
    int u = 0;
    while (v >= 1024 && u < UNITS.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, UNITS[u]);
  }

  /**
   * A memory capacity as hardware is named: whole GiB when it is a whole number of GiB, else
   * whole MiB ({@code 64 GiB}, {@code 256 MiB}).
   */
  public static String capacity(long bytes) {
    return bytes >= 1L << 30 && bytes % (1L << 30) == 0 ? (bytes >> 30) + " GiB"
        : (bytes >> 20) + " MiB";
  }
}
