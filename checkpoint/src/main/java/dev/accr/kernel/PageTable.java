package dev.accr.kernel;

import dev.accr.api.MemoryView;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A two-level sparse page table of one mapping: page index to frame, a reference into the
 * mapping's {@link FramePool}. Second-level tables of 512 entries exist only where pages were
 * touched, so a huge mapping with few pages is cheap. A second-level table is kept as up to
 * {@value #MAX_RUNS} runs (first page, pages, first frame) while its pages got their frames in
 * that few runs of frames that follow each other, as restore and first touches in address
 * order give them: the heap then holds a few words per 2 MiB of memory, not one per page.
 * Otherwise the table is dense, one reference per page. Writers take this table's lock;
 * readers take none: a table of runs is replaced whole, never changed once published.
 *
 * <p>Its {@link DirtyBits} are the simulated soft-dirty bits of its pages.
 */
final class PageTable {
  private static final int PAGE = MemoryView.PAGE_SIZE;
  static final int SHIFT = 9;
  private static final int SIZE = 1 << SHIFT;
  private static final int MASK = SIZE - 1;
  /** Runs a second-level table holds before it turns dense (a pair of longs each). */
  static final int MAX_RUNS = 8;
  private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
  private static final VarHandle TABLES = MethodHandles.arrayElementVarHandle(long[][].class);
  private static final VarHandle GROUPS = MethodHandles.arrayElementVarHandle(long[][][].class);
  /** Second-level tables come in groups of 512 (1 GiB of pages), made on first use. */
  private static final int GROUP_SHIFT = 9;
  private static final int GROUP_MASK = (1 << GROUP_SHIFT) - 1;

  private final FramePool frames;
  /**
   * Per group, per second-level table: null, dense (SIZE references, 0: no frame), or pairs of
   * a run's head ({@link #head}) and its first frame's reference, in page order. Groups exist
   * where pages were touched: a mapping of 1 TiB starts with 1024 empty slots, not 512 Ki.
   */
  private final long[][][] directory;
  private final int tables;
  private final long pages;
  private final DirtyBits dirty = new DirtyBits(this);

  PageTable(long pages, FramePool frames) {
    this.pages = pages;
    this.frames = frames;
    long tables = (pages + MASK) >>> SHIFT;
    if (tables > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("mapping too large: " + pages + " pages");
    }
    this.tables = (int) tables;
    this.directory = new long[(int) ((tables + GROUP_MASK) >>> GROUP_SHIFT)][][];
  }

  long pages() {
    return pages;
  }

  /** The written pages of this table's tracking periods. */
  DirtyBits dirtyBits() {
    return dirty;
  }

  /** The number of second-level tables, touched or not. */
  int tables() {
    return tables;
  }

  /** Whether second-level table {@code t} exists (a page of it was touched). */
  boolean hasTable(int t) {
    return table(t) != null;
  }

  /** Where this table's frames come from. */
  FramePool frames() {
    return frames;
  }

  private static long head(int first, int count) {
    return ((long) first << 16) | count;
  }

  private static int first(long head) {
    return (int) (head >>> 16);
  }

  private static int count(long head) {
    return (int) (head & 0xffff);
  }

  private long[] table(int t) {
    long[][] group = (long[][]) GROUPS.getAcquire(directory, t >>> GROUP_SHIFT);
    return group == null ? null : (long[]) TABLES.getAcquire(group, t & GROUP_MASK);
  }

  /** Publishes second-level table {@code t}; called holding this table's lock. */
  private void publish(int t, long[] table) {
    long[][] group = directory[t >>> GROUP_SHIFT];
    if (group == null) {
      group = new long[1 << GROUP_SHIFT][];
      GROUPS.setRelease(directory, t >>> GROUP_SHIFT, group);
    }
    TABLES.setRelease(group, t & GROUP_MASK, table);
  }

  /** The first second-level table at or after {@code t} that may exist (skips empty groups). */
  int nextTable(int t) {
    while (t < tables && GROUPS.getAcquire(directory, t >>> GROUP_SHIFT) == null) {
      t = ((t >>> GROUP_SHIFT) + 1) << GROUP_SHIFT;
    }
    return t;
  }

  /** The reference of the frame of page {@code index}, or 0 if the page was never touched. */
  long ref(long index) {
    long[] table = table((int) (index >>> SHIFT));
    return table == null ? 0 : refIn(table, (int) (index & MASK));
  }

  private static long refIn(long[] table, int i) {
    if (table.length == SIZE) {
      return (long) LONGS.getAcquire(table, i);
    }
    for (int k = 0; k < table.length; k += 2) {
      int offset = i - first(table[k]);
      if (offset >= 0 && offset < count(table[k])) {
        return table[k + 1] + offset;
      }
    }
    return 0;
  }

  /** The frame of a page, or null if the page was never touched. */
  MemorySegment get(long index) {
    long ref = ref(index);
    return ref == 0 ? null : frames.frame(ref);
  }

  /**
   * How many pages from {@code index} on, at most {@code max}, are touched and have frames
   * that follow each other in memory (0: page {@code index} is not touched).
   */
  int frameRun(long index, int max) {
    long ref = ref(index);
    if (ref == 0) {
      return 0;
    }
    int n = 1;
    while (n < max && index + n < pages) {
      long[] table = table((int) ((index + n) >>> SHIFT));
      int at = (int) ((index + n) & MASK);
      if (table == null || refIn(table, at) != ref + n) {
        break;
      }
      if (table.length == SIZE) {
        n++;
        continue;
      }
      int k = runAt(table, at); // a run of frames: its pages at once
      n += Math.min(max - n, count(table[k]) - (at - first(table[k])));
    }
    return n;
  }

  /** The index in {@code runs} of the run holding page {@code i}, which one does. */
  private static int runAt(long[] runs, int i) {
    int k = 0;
    while (i - first(runs[k]) >= count(runs[k])) {
      k += 2;
    }
    return k;
  }

  /**
   * Gives each page of {@code first .. first + count - 1} that has no frame yet the frame
   * {@code ref + (page - first)}, from a block of frames that follow each other; pages that
   * have a frame keep it. Each frame is published with a release: a reader that finds it
   * without a lock also sees what was written into it before. Returns the pages given.
   */
  synchronized long fillAbsent(long first, long count, long ref) {
    long given = 0;
    for (long i = first; i < first + count; ) {
      int from = (int) (i & MASK);
      int n = (int) Math.min(SIZE - from, first + count - i);
      given += fillTable((int) (i >>> SHIFT), from, n, ref + (i - first));
      i += n;
    }
    return given;
  }

  /** The frame of page {@code index}, a zeroed one allocated now if it had none. */
  synchronized MemorySegment install(long index) {
    long ref = ref(index);
    if (ref == 0) {
      ref = frames.allocate();
      fillAbsent(index, 1, ref);
    }
    return frames.frame(ref);
  }

  /**
   * Fresh frames, contiguous and counted as resident, for the run of {@code count} untouched
   * pages from {@code first} on; null when a page of the run has a frame already.
   */
  synchronized MemorySegment freshRun(long first, int count) {
    long touched = nextTouched(first);
    if (touched >= 0 && touched < first + count) {
      return null;
    }
    long ref = frames.allocateBlock(count);
    fillAbsent(first, count, ref);
    frames.adopt(count);
    return frames.frames(ref, count);
  }

  private int fillTable(int t, int from, int n, long ref) {
    long[] table = table(t);
    if (table == null) {
      publish(t, new long[] {head(from, n), ref});
      return n;
    }
    if (table.length != SIZE) {
      long[] runs = overlaps(table, from, n) ? null : withRun(table, from, n, ref);
      if (runs != null) {
        publish(t, runs);
        return n;
      }
      table = dense(table);
      publish(t, table);
    }
    int given = 0;
    for (int i = 0; i < n; i++) {
      if ((long) LONGS.getAcquire(table, from + i) == 0) {
        LONGS.setRelease(table, from + i, ref + i);
        given++;
      }
    }
    return given;
  }

  private static boolean overlaps(long[] runs, int from, int n) {
    for (int k = 0; k < runs.length; k += 2) {
      int first = first(runs[k]);
      if (first < from + n && from < first + count(runs[k])) {
        return true;
      }
    }
    return false;
  }

  /**
   * {@code runs} with the run {@code from, n, ref} added in page order and joined to a
   * neighbour whose frames it continues; null when that makes more than {@link #MAX_RUNS}.
   */
  private static long[] withRun(long[] runs, int from, int n, long ref) {
    int at = 0;
    while (at < runs.length && first(runs[at]) < from) {
      at += 2;
    }
    boolean joinsBefore = at > 0 && first(runs[at - 2]) + count(runs[at - 2]) == from
        && runs[at - 1] + count(runs[at - 2]) == ref;
    boolean joinsAfter = at < runs.length && from + n == first(runs[at])
        && ref + n == runs[at + 1];
    if (joinsBefore || joinsAfter) {
      long[] out = runs.clone();
      int start = joinsBefore ? first(runs[at - 2]) : from;
      long startRef = joinsBefore ? runs[at - 1] : ref;
      int end = joinsAfter ? first(runs[at]) + count(runs[at]) : from + n;
      int slot = joinsBefore ? at - 2 : at;
      out[slot] = head(start, end - start);
      out[slot + 1] = startRef;
      if (joinsBefore && joinsAfter) { // the new run closes the gap between two
        long[] shorter = new long[out.length - 2];
        System.arraycopy(out, 0, shorter, 0, at);
        System.arraycopy(out, at + 2, shorter, at, out.length - at - 2);
        return shorter;
      }
      return out;
    }
    if (runs.length / 2 >= MAX_RUNS) {
      return null;
    }
    long[] out = new long[runs.length + 2];
    System.arraycopy(runs, 0, out, 0, at);
    out[at] = head(from, n);
    out[at + 1] = ref;
    System.arraycopy(runs, at, out, at + 2, runs.length - at);
    return out;
  }

  private static long[] dense(long[] runs) {
    long[] table = new long[SIZE];
    for (int k = 0; k < runs.length; k += 2) {
      for (int i = 0; i < count(runs[k]); i++) {
        table[first(runs[k]) + i] = runs[k + 1] + i;
      }
    }
    return table;
  }

  /** Whether second-level table {@code t} is kept as runs (for tests). */
  boolean keptAsRuns(int t) {
    long[] table = table(t);
    return table != null && table.length != SIZE;
  }

  /** The number of pages that have frames: a count of runs, not a walk of pages. */
  long touchedPages() {
    long n = 0;
    for (int t = nextTable(0); t < tables; t = nextTable(t + 1)) {
      long[] table = table(t);
      if (table == null) {
        continue;
      }
      if (table.length == SIZE) {
        for (int i = 0; i < SIZE; i++) {
          n += (long) LONGS.getAcquire(table, i) != 0 ? 1 : 0;
        }
      } else {
        for (int k = 0; k < table.length; k += 2) {
          n += count(table[k]);
        }
      }
    }
    return n;
  }

  /** The index of the first touched page at or after {@code index}, or -1 if there is none. */
  long nextTouched(long index) {
    for (long i = Math.max(0, index); i < pages; ) {
      int t = nextTable((int) (i >>> SHIFT));
      if (t >= tables) {
        return -1;
      }
      if ((long) t << SHIFT > i) {
        i = (long) t << SHIFT;
      }
      long[] table = table(t);
      if (table != null) {
        int found = nextIn(table, (int) (i & MASK));
        if (found >= 0) {
          return ((long) t << SHIFT) | found;
        }
      }
      i = ((long) t + 1) << SHIFT;
    }
    return -1;
  }

  /** The first page at or after {@code from} of a second-level table that has a frame, or -1. */
  private static int nextIn(long[] table, int from) {
    if (table.length == SIZE) {
      for (int i = from; i < SIZE; i++) {
        if ((long) LONGS.getAcquire(table, i) != 0) {
          return i;
        }
      }
      return -1;
    }
    for (int k = 0; k < table.length; k += 2) { // runs are in page order
      int first = first(table[k]);
      if (first + count(table[k]) > from) {
        return Math.max(first, from);
      }
    }
    return -1;
  }

  /** Visits touched pages in address order. */
  void forEach(PageVisitor visitor) {
    for (long i = nextTouched(0); i >= 0; ) {
      int n = frameRun(i, SIZE);
      MemorySegment run = frames.frames(ref(i), n);
      for (int k = 0; k < n; k++) {
        visitor.visit(i + k, run.asSlice((long) k * PAGE, PAGE));
      }
      long next = i + n;
      i = next < pages ? nextTouched(next) : -1;
    }
  }

  /** Receives one touched page. */
  @FunctionalInterface
  interface PageVisitor {
    void visit(long index, MemorySegment frame);
  }
}
