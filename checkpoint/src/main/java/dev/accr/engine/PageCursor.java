package dev.accr.engine;

import dev.accr.api.MemoryView;
import dev.accr.kernel.Vma;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Hands out the selected (touched) pages of some mappings in address order, a batch at a time, to the
 * threads of a page dump. Nothing is listed ahead: memory use does not grow with the process,
 * and untouched stretches of a mapping, however large, are skipped a page table at a time.
 */
final class PageCursor {
  private static final int PAGE = MemoryView.PAGE_SIZE;

  private final List<Vma> vmas;
  private final PageSelection selection;
  private int vma;
  private long index;
  private long sequence;

  PageCursor(List<Vma> vmas, PageSelection selection) {
    this.vmas = vmas;
    this.selection = selection;
  }

  /** The number of pages of {@code vmas} that {@code selection} selects. */
  static long count(List<Vma> vmas, PageSelection selection) {
    long n = 0;
    for (Vma v : vmas) {
      for (long i = selection.next(v, 0); i >= 0; i = selection.next(v, i + 1)) {
        n++;
      }
    }
    return n;
  }

  /**
   * Fills {@code batch} with the next pages, up to its capacity; false when none are left.
   * Each batch gets the next sequence number: chunks sorted by it are in address order.
   */
  synchronized boolean next(Batch batch) {
    batch.size = 0;
    while (batch.size < batch.addresses.length && vma < vmas.size()) {
      Vma v = vmas.get(vma);
      long i = selection.next(v, index);
      if (i < 0) {
        vma++;
        index = 0;
        continue;
      }
      batch.addresses[batch.size] = v.start() + i * PAGE;
      batch.frames[batch.size] = v.frame(i);
      batch.mappings[batch.size] = vma;
      batch.size++;
      index = i + 1;
    }
    batch.sequence = sequence++;
    return batch.size > 0;
  }

  /** One thread's reusable batch of pages. */
  static final class Batch {
    private final long[] addresses;
    private final MemorySegment[] frames;
    private final int[] mappings;
    private int size;
    private long sequence;

    Batch(int capacity) {
      addresses = new long[capacity];
      frames = new MemorySegment[capacity];
      mappings = new int[capacity];
    }

    int size() {
      return size;
    }

    long address(int i) {
      return addresses[i];
    }

    MemorySegment frame(int i) {
      return frames[i];
    }

    /** Which of the cursor's mappings page {@code i} is in. */
    int mapping(int i) {
      return mappings[i];
    }

    long sequence() {
      return sequence;
    }
  }
}
