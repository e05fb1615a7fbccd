package dev.accr.kfd.plugin;

import java.util.Map;
import java.util.TreeMap;

/**
 * A set of GPU addresses kept as disjoint, sorted {@code [from, to)} ranges, merged as they are
 * added: what the newer links of a chain have settled, which the older ones must keep out of.
 * Addresses compare as signed longs, as the restore's maps of extents do; callers check that a
 * range does not wrap before they ask about it.
 */
final class VaRanges {
  /** Receives one range {@code [from, to)}. */
  @FunctionalInterface
  interface RangeSink {
    void accept(long from, long to);
  }

  /** Start of each range to its end. */
  private final TreeMap<Long, Long> ranges = new TreeMap<>();

  /** Adds {@code [from, to)}, merged with the ranges it overlaps or touches. */
  void add(long from, long to) {
    check(from, to);
    if (from == to) {
      return;
    }
    Map.Entry<Long, Long> before = ranges.floorEntry(from);
    if (before != null && before.getValue() >= from) {
      if (before.getValue() >= to) {
        return; // inside a range already
      }
      from = before.getKey();
    }
    // Ranges starting inside [from, to] are swallowed; the last of them may end after to.
    for (var it = ranges.subMap(from, true, to, true).entrySet().iterator(); it.hasNext(); ) {
      to = Math.max(to, it.next().getValue());
      it.remove();
    }
    ranges.put(from, to);
  }

  /** Hands {@code sink} the parts of {@code [from, to)} no range covers, in order. */
  void forEachUncovered(long from, long to, RangeSink sink) {
    check(from, to);
    long at = from;
    Map.Entry<Long, Long> before = ranges.floorEntry(from);
    if (before != null && before.getValue() > at) {
      at = before.getValue();
    }
    for (Map.Entry<Long, Long> r : ranges.subMap(from, false, to, false).entrySet()) {
      if (r.getKey() > at) {
        sink.accept(at, r.getKey());
      }
      at = Math.max(at, r.getValue());
    }
    if (at < to) {
      sink.accept(at, to);
    }
  }

  /** Whether every address of {@code [from, to)} is in a range. */
  boolean covers(long from, long to) {
    check(from, to);
    if (from == to) {
      return true;
    }
    Map.Entry<Long, Long> r = ranges.floorEntry(from);
    return r != null && r.getValue() >= to; // ranges are merged: one must hold it all
  }

  boolean isEmpty() {
    return ranges.isEmpty();
  }

  /** How many disjoint ranges there are. */
  int size() {
    return ranges.size();
  }

  /** Addresses in all the ranges. */
  long bytes() {
    return ranges.entrySet().stream().mapToLong(e -> e.getValue() - e.getKey()).sum();
  }

  @Override
  public String toString() {
    StringBuilder s = new StringBuilder("[");
    ranges.forEach((a, b) -> s.append(s.length() > 1 ? ", " : "")
        .append(String.format("0x%x-0x%x", a, b)));
    return s.append(']').toString();
  }

  private static void check(long from, long to) {
    if (to < from) {
      throw new IllegalArgumentException(String.format("range 0x%x-0x%x ends before it begins",
          from, to));
    }
  }
}
