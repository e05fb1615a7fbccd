package dev.accr.kernel;

import java.lang.foreign.MemorySegment;

/**
 * A two-level sparse page table of one mapping: page index to frame. Second-level tables of
 * 512 entries exist only where pages were touched, so a huge mapping with few pages is cheap.
 */
final class PageTable {
  private static final int SHIFT = 9;
  private static final int SIZE = 1 << SHIFT;
  private static final int MASK = SIZE - 1;

  private final MemorySegment[][] directory;
  private final long pages;

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
