package dev.accr.kfd.plugin;

import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** How the kfd reports write numbers in their tables: ids and addresses in hex, sizes for people. */
final class Cells {
  private Cells() {}

  static String hex(long v) {
    return "0x" + Long.toHexString(v);
  }

  static String hexIds(List<Integer> ids) {
    return ids.isEmpty() ? "-" : ids.stream().map(id -> hex(id & 0xffffffffL))
        .collect(Collectors.joining(","));
  }

  /** Exact below 10 KiB, else KiB/MiB/GiB with one decimal. */
  static String bytes(long n) {
    if (n < 10 * 1024) {
      return n + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double v = n / 1024.0;
    int u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }
}
