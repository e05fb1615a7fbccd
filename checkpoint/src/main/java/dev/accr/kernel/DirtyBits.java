package dev.accr.kernel;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The simulated soft-dirty bits of one {@link PageTable}: while writes are tracked, each
 * second-level table that was written since the last {@link #swap} has a bitmap of its written
 * pages. When nobody tracks, there are no bitmaps and marking a write is one null check. Bits
 * are read and marked a word (64 pages) at a time, so that runs of pages cost by the word.
 */
final class DirtyBits {
  private static final int SHIFT = PageTable.SHIFT;
  private static final int SIZE = 1 << SHIFT;
  private static final int MASK = SIZE - 1;
  private static final int BITMAP_LONGS = SIZE / Long.SIZE;
  private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

  private final PageTable table;
  /** Per second-level table, the pages written since tracking (re)started; null: not tracking. */
  private volatile long[][] dirty;

  DirtyBits(PageTable table) {
    this.table = table;
  }

  /** Marks page {@code index} written, if writes are tracked. */
  void mark(long index) {
    long[][] d = dirty;
    if (d == null) {
      return;
    }
    int t = (int) (index >>> SHIFT);
    long[] bits = d[t];
    if (bits == null) {
      bits = bitmap(d, t);
    }
    int i = (int) (index & MASK);
    long bit = 1L << i;
    if ((bits[i >>> 6] & bit) == 0) {
      LONGS.getAndBitwiseOr(bits, i >>> 6, bit);
    }
  }

  /** Marks pages {@code first .. first + count - 1} written, if writes are tracked. */
  void mark(long first, long count) {
    long[][] d = dirty;
    if (d == null) {
      return;
    }
    for (long i = first; i < first + count; ) {
      int t = (int) (i >>> SHIFT);
      long[] bits = d[t] == null ? bitmap(d, t) : d[t];
      int bit = (int) (i & MASK);
      int n = (int) Math.min(64 - (bit & 63), first + count - i);
      long mask = n == 64 ? -1L : ((1L << n) - 1) << (bit & 63);
      if ((bits[bit >>> 6] & mask) != mask) {
        LONGS.getAndBitwiseOr(bits, bit >>> 6, mask);
      }
      i += n;
    }
  }

  private synchronized long[] bitmap(long[][] d, int t) {
    if (d[t] == null) {
      d[t] = new long[BITMAP_LONGS];
    }
    return d[t];
  }

  /**
   * Ends the current tracking period and starts a new one when {@code track}, or stops
   * tracking; returns the bits of the period that ended (null when writes were not tracked).
   */
  synchronized long[][] swap(boolean track) {
    long[][] old = dirty;
    long[][] next = null;
    if (track) {
      int tables = table.tables();
      next = new long[tables][];
      for (int t = table.nextTable(0); t < tables; t = table.nextTable(t + 1)) {
        if (table.hasTable(t)) { // touched tables: their writes mark without allocating
          next[t] = new long[BITMAP_LONGS];
        }
      }
    }
    dirty = next;
    return old;
  }

  /** Adds the bits of an ended period back into the current one (a dump that failed). */
  synchronized void restore(long[][] bits) {
    long[][] d = dirty;
    if (d == null || bits == null) {
      return;
    }
    for (int t = 0; t < bits.length; t++) {
      if (bits[t] != null) {
        long[] target = d[t] == null ? bitmap(d, t) : d[t];
        for (int w = 0; w < BITMAP_LONGS; w++) {
          LONGS.getAndBitwiseOr(target, w, bits[t][w]);
        }
      }
    }
  }

  /**
   * The index of the first touched page at or after {@code index} that {@code bits} marks
   * written, or -1; skips tables without marks.
   */
  long next(long[][] bits, long index) {
    long pages = table.pages();
    for (long i = Math.max(0, index); i < pages; ) {
      int t = (int) (i >>> SHIFT);
      long[] words = bits[t];
      if (words == null || !table.hasTable(t)) {
        i = ((long) t + 1) << SHIFT;
        continue;
      }
      int bit = (int) (i & MASK);
      long word = words[bit >>> 6] & (-1L << (bit & 63));
      if (word == 0) {
        i = (i | 63) + 1; // the next word
        continue;
      }
      long found = ((long) t << SHIFT) | ((bit & ~63) + Long.numberOfTrailingZeros(word));
      if (table.ref(found) != 0) {
        return found;
      }
      i = found + 1;
    }
    return -1;
  }

  /**
   * How many pages from {@code index} on, at most {@code max}, {@code bits} marks written one
   * after the other (touched or not); counted by the word.
   */
  static int run(long[][] bits, long index, int max) {
    int n = 0;
    for (long i = index; n < max && i >>> SHIFT < bits.length; ) {
      long[] words = bits[(int) (i >>> SHIFT)];
      if (words == null) {
        break;
      }
      int bit = (int) (i & MASK);
      int left = 64 - (bit & 63);
      int ones = Math.min(left, Long.numberOfTrailingZeros(~(words[bit >>> 6] >>> (bit & 63))));
      n += ones;
      i += ones;
      if (ones < left) {
        break;
      }
    }
    return Math.min(n, max);
  }

  /** The number of pages {@code bits} marks written (touched or not): a count of bits. */
  static long count(long[][] bits) {
    long n = 0;
    for (long[] words : bits) {
      if (words != null) {
        for (long w : words) {
          n += Long.bitCount(w);
        }
      }
    }
    return n;
  }

  /** Visits the runs of consecutive pages that {@code bits} marks written, in address order. */
  static void forEachRun(long[][] bits, RunVisitor visitor) {
    long runStart = -1;
    long runLength = 0;
    for (int t = 0; t < bits.length; t++) {
      long[] words = bits[t];
      if (words == null) {
        continue;
      }
      for (int w = 0; w < BITMAP_LONGS; w++) {
        long word = words[w];
        int at = 0;
        while (word != 0) { // a stretch of ones at a time
          int zeros = Long.numberOfTrailingZeros(word);
          word >>>= zeros;
          at += zeros;
          int ones = Long.numberOfTrailingZeros(~word);
          long index = ((long) t << SHIFT) | (w * Long.SIZE + at);
          if (runLength > 0 && index == runStart + runLength) {
            runLength += ones;
          } else {
            if (runLength > 0) {
              visitor.visit(runStart, runLength);
            }
            runStart = index;
            runLength = ones;
          }
          word = ones == 64 ? 0 : word >>> ones;
          at += ones;
        }
      }
    }
    if (runLength > 0) {
      visitor.visit(runStart, runLength);
    }
  }

  /** Receives a run of page indexes. */
  @FunctionalInterface
  interface RunVisitor {
    void visit(long firstIndex, long pages);
  }
}
