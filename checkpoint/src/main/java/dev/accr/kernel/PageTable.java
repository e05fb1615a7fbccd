package dev.accr.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A two-level sparse page table of one mapping: page index to frame. Second-level tables of
 * 512 entries exist only where pages were touched, so a huge mapping with few pages is cheap.
 *
 * <p>While writes are tracked, each second-level table that was written since the last
 * {@link #swapDirty} has a bitmap of its written pages (the simulated soft-dirty bits). When
 * nobody tracks, there are no bitmaps and marking a write is one null check.
 */
final class PageTable {
  private static final int SHIFT = 9;
  private static final int SIZE = 1 << SHIFT;
  private static final int MASK = SIZE - 1;
  private static final int BITMAP_LONGS = SIZE / Long.SIZE;
  private static final VarHandle BITS = MethodHandles.arrayElementVarHandle(long[].class);
  private static final VarHandle FRAMES =
      MethodHandles.arrayElementVarHandle(MemorySegment[].class);

  private final MemorySegment[][] directory;
  private final long pages;
  /** Per second-level table, the pages written since tracking (re)started; null: not tracking. */
  private volatile long[][] dirty;

  PageTable(long pages) {
    this.pages = pages;
    long tables = (pages + MASK) >>> SHIFT;
    if (tables > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("mapping too large: " + pages + " pages");
    }
    this.directory = new MemorySegment[(int) tables][];
  }

  long pages() {
    return pages;
  }

  /** The frame of a page, or null if the page was never touched. */
  MemorySegment get(long index) {
    MemorySegment[] table = directory[(int) (index >>> SHIFT)];
    return table == null ? null : table[(int) (index & MASK)];
  }

  void set(long index, MemorySegment frame) {
    int t = (int) (index >>> SHIFT);
    MemorySegment[] table = directory[t];
    if (table == null) {
      table = new MemorySegment[SIZE];
      directory[t] = table;
    }
    table[(int) (index & MASK)] = frame;
  }

  /**
   * Sets a frame whose contents were written just before, so that a thread that finds the
   * frame without taking a lock (the fast path of an access) also sees its contents.
   */
  void publish(long index, MemorySegment frame) {
    int t = (int) (index >>> SHIFT);
    if (directory[t] == null) {
      directory[t] = new MemorySegment[SIZE];
    }
    FRAMES.setRelease(directory[t], (int) (index & MASK), frame);
  }

  /** The index of the first touched page at or after {@code index}, or -1 if there is none. */
  long nextTouched(long index) {
    for (long i = Math.max(0, index); i < pages; ) {
      MemorySegment[] table = directory[(int) (i >>> SHIFT)];
      if (table == null) {
        i = ((i >>> SHIFT) + 1) << SHIFT;
        continue;
      }
      if (table[(int) (i & MASK)] != null) {
        return i;
      }
      i++;
    }
    return -1;
  }

  /** Marks page {@code index} written, if writes are tracked. */
  void markDirty(long index) {
    long[][] d = dirty;
    if (d == null) {
      return;
    }
    int t = (int) (index >>> SHIFT);
    long[] bits = d[t];
    if (bits == null) {
      bits = dirtyTable(d, t);
    }
    int i = (int) (index & MASK);
    long bit = 1L << i;
    if ((bits[i >>> 6] & bit) == 0) {
      BITS.getAndBitwiseOr(bits, i >>> 6, bit);
    }
  }

  private synchronized long[] dirtyTable(long[][] d, int t) {
    if (d[t] == null) {
      d[t] = new long[BITMAP_LONGS];
    }
    return d[t];
  }

  /**
   * Ends the current tracking period and starts a new one when {@code track}, or stops
   * tracking; returns the bits of the period that ended (null when writes were not tracked).
   */
  synchronized long[][] swapDirty(boolean track) {
    long[][] old = dirty;
    long[][] next = null;
    if (track) {
      next = new long[directory.length][];
      for (int t = 0; t < directory.length; t++) {
        if (directory[t] != null) { // touched tables: their writes mark without allocating
          next[t] = new long[BITMAP_LONGS];
        }
      }
    }
    dirty = next;
    return old;
  }

  /** Adds the bits of an ended period back into the current one (a dump that failed). */
  synchronized void restoreDirty(long[][] bits) {
    long[][] d = dirty;
    if (d == null || bits == null) {
      return;
    }
    for (int t = 0; t < bits.length; t++) {
      if (bits[t] != null) {
        long[] target = d[t] == null ? dirtyTable(d, t) : d[t];
        for (int w = 0; w < BITMAP_LONGS; w++) {
          BITS.getAndBitwiseOr(target, w, bits[t][w]);
        }
      }
    }
  }

  /**
   * The index of the first touched page at or after {@code index} that {@code bits} marks
   * written, or -1; skips tables without marks.
   */
  long nextDirty(long[][] bits, long index) {
    for (long i = Math.max(0, index); i < pages; ) {
      int t = (int) (i >>> SHIFT);
      long[] words = bits[t];
      MemorySegment[] table = directory[t];
      if (words == null || table == null) {
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
      if (table[(int) (found & MASK)] != null) {
        return found;
      }
      i = found + 1;
    }
    return -1;
  }

  /** Visits the runs of consecutive pages that {@code bits} marks written, in address order. */
  static void forEachDirtyRun(long[][] bits, RunVisitor visitor) {
    long runStart = -1;
    long runLength = 0;
    for (int t = 0; t < bits.length; t++) {
      long[] words = bits[t];
      if (words == null) {
        continue;
      }
      for (int w = 0; w < BITMAP_LONGS; w++) {
        for (long word = words[w]; word != 0; word &= word - 1) {
          long index = ((long) t << SHIFT) | (w * Long.SIZE + Long.numberOfTrailingZeros(word));
          if (runLength > 0 && index == runStart + runLength) {
            runLength++;
          } else {
            if (runLength > 0) {
              visitor.visit(runStart, runLength);
            }
            runStart = index;
            runLength = 1;
          }
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

  /** Visits touched pages in address order. */
  void forEach(PageVisitor visitor) {
    for (int t = 0; t < directory.length; t++) {
      MemorySegment[] table = directory[t];
      if (table == null) {
        continue;
      }
      for (int i = 0; i < SIZE; i++) {
        if (table[i] != null) {
          visitor.visit(((long) t << SHIFT) | i, table[i]);
        }
      }
    }
  }

  /** Receives one touched page. */
  @FunctionalInterface
  interface PageVisitor {
    void visit(long index, MemorySegment frame);
  }
}
