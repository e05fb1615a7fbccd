package dev.accr.kfd.driver;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * The written pages of one buffer or SVM range since tracking was last cleared, one bit per
 * 4 KiB page. Writers (device queue threads, the CPU) mark concurrently; a snapshot that
 * clears takes each word atomically, so no mark between two snapshots is lost.
 */
final class DirtyTracker {
  private static final VarHandle WORD = MethodHandles.arrayElementVarHandle(long[].class);

  private final int pages;
  private final long[] bits;
  /** Created while tracking was on, since the last clear: wholly new to the next dump. */
  private volatile boolean created;

  DirtyTracker(int pages, boolean created) {
    this.pages = pages;
    this.bits = new long[PageBitmap.wordsFor(pages)];
    this.created = created;
    if (created) {
      Arrays.fill(bits, -1L);
    }
  }

  /** Marks page {@code page}. */
  void mark(int page) {
    long bit = 1L << page;
    int w = page >>> 6;
    if (((long) WORD.getOpaque(bits, w) & bit) == 0) {
      WORD.getAndBitwiseOr(bits, w, bit);
    }
  }

  /** Marks every page that {@code [offset, offset + length)} touches. */
  void markBytes(long offset, long length) {
    if (length <= 0) {
      return;
    }
    int last = (int) ((offset + length - 1) / GpuVm.PAGE);
    for (int p = (int) (offset / GpuVm.PAGE); p <= last; p++) {
      mark(p);
    }
  }

  boolean created() {
    return created;
  }

  /** The marked pages; with {@code clear}, unmarks them and forgets that it was created. */
  PageBitmap snapshot(boolean clear) {
    long[] w = new long[bits.length];
    for (int i = 0; i < w.length; i++) {
      w[i] = clear ? (long) WORD.getAndSet(bits, i, 0L) : (long) WORD.getVolatile(bits, i);
    }
    if (clear) {
      created = false;
    }
    return new PageBitmap(pages, w);
  }

  /** Marks {@code pages} again (a snapshot whose dump failed). */
  void restore(PageBitmap again, boolean wasCreated) {
    long[] w = again.words();
    for (int i = 0; i < w.length; i++) {
      WORD.getAndBitwiseOr(bits, i, w[i]);
    }
    if (wasCreated) {
      created = true;
    }
  }

  /** Heap bytes the bitmap holds. */
  long bytes() {
    return 8L * bits.length;
  }
}
