package dev.accr.engine;

import java.util.Map;
import java.util.TreeMap;

/** A set of disjoint address ranges [start, end), merged as they are added. */
final class AddressRanges {
  private final TreeMap<Long, Long> ranges = new TreeMap<>();

  AddressRanges copy() {
    AddressRanges c = new AddressRanges();
    c.ranges.putAll(ranges);
    return c;
  }

  void add(long start, long end) {
    if (end <= start) {
      return;
    }
    Map.Entry<Long, Long> below = ranges.floorEntry(start);
    if (below != null && below.getValue() >= start) {
      start = below.getKey();
      end = Math.max(end, below.getValue());
    }
    for (Map.Entry<Long, Long> e = ranges.ceilingEntry(start); e != null && e.getKey() <= end;
        e = ranges.ceilingEntry(start)) {
      end = Math.max(end, e.getValue());
      ranges.remove(e.getKey());
    }
    ranges.put(start, end);
  }

  boolean contains(long address) {
    Map.Entry<Long, Long> e = ranges.floorEntry(address);
    return e != null && address < e.getValue();
  }

  /** Visits the parts of [start, end) that no range covers, in order. */
  void forEachGap(long start, long end, RangeVisitor visitor) {
    long at = start;
    Map.Entry<Long, Long> e = ranges.floorEntry(at);
    if (e != null && e.getValue() > at) {
      at = e.getValue();
    }
    while (at < end) {
      Map.Entry<Long, Long> next = ranges.higherEntry(at);
      long gapEnd = next == null ? end : Math.min(end, next.getKey());
      if (gapEnd > at) {
        visitor.visit(at, gapEnd);
      }
      if (next == null) {
        return;
      }
      at = next.getValue();
    }
  }

  /** Receives a range [start, end). */
  @FunctionalInterface
  interface RangeVisitor {
    void visit(long start, long end);
  }
}
