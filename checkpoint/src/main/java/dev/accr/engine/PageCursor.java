package dev.accr.engine;

import dev.accr.api.MemoryView;
import dev.accr.kernel.Vma;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Hands out the touched pages of some mappings in address order, a batch at a time, to the
 * threads of a page dump. Nothing is listed ahead: memory use does not grow with the process,
 * and untouched stretches of a mapping, however large, are skipped a page table at a time.
 */
final class PageCursor {
  private static final int PAGE = MemoryView.PAGE_SIZE;

  private final List<Vma> vmas;
  private int vma;
  private long index;
  private long sequence;

  PageCursor(List<Vma> vmas) {
    this.vmas = vmas;
  }

  /** The number of touched pages of {@code vmas}. */
  static long count(List<Vma> vmas) {
    long n = 0;
    for (Vma v : vmas) {
      for (long i = v.nextTouchedPage(0); i >= 0; i = v.nextTouchedPage(i + 1)) {
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
      long i = v.nextTouchedPage(index);
      if (i < 0) {
        vma++;
        index = 0;
        continue;
      }
      batch.addresses[batch.size] = v.start() + i * PAGE;
      batch.frames[batch.size] = v.frame(i);
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
    private int size;
    private long sequence;

    Batch(int capacity) {
      addresses = new long[capacity];
      frames = new MemorySegment[capacity];
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

    long sequence() {
      return sequence;
    }
  }
}
