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
}
