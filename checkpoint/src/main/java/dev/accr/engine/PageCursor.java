package dev.accr.engine;

import dev.accr.api.MemoryView;
import dev.accr.kernel.Vma;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Hands out the selected (touched) pages of some mappings in address order, a batch at a time, to the
 * threads of a page dump. Nothing is listed ahead: memory use does not grow with the process,
 * and untouched stretches of a mapping, however large, are skipped a page table at a time.
 * A batch holds pieces: runs of pages whose frames follow each other in memory, each one
 * segment, so that a run of frames is written with one piece of a gathering write.
 */
final class PageCursor {
  private static final int PAGE = MemoryView.PAGE_SIZE;

  private final List<Vma> vmas;
  private final PageSelection selection;
  private int vma;
  private long index;
  private long sequence;
  private boolean stopped;

  PageCursor(List<Vma> vmas, PageSelection selection) {
    this.vmas = vmas;
    this.selection = selection;
  }

  /**
   * At least the number of pages of {@code vmas} that {@code selection} selects, without
   * visiting them ({@link PageSelection#bound}).
   */
  static long bound(List<Vma> vmas, PageSelection selection) {
    long n = 0;
    for (Vma v : vmas) {
      n += selection.bound(v);
    }
    return n;
  }

  /**
   * Fills {@code batch} with the next pages, up to its capacity; false when none are left.
   * Each batch gets the next sequence number: chunks sorted by it are in address order.
   */
  synchronized boolean next(Batch batch) {
    batch.pieces = 0;
    batch.size = 0;
    while (!stopped && batch.size < batch.capacity && vma < vmas.size()) {
      Vma v = vmas.get(vma);
      long i = selection.next(v, index);
      if (i < 0) {
        vma++;
        index = 0;
        continue;
      }
      int n = v.frameRun(i, selection.run(v, i, batch.capacity - batch.size));
      if (n > 0) {
        batch.add(v.start() + i * PAGE, v.frames(i, n), n, vma);
      }
      index = i + Math.max(1, n);
    }
    batch.sequence = sequence++;
    return batch.size > 0;
  }

  /** Hands out nothing more: a dump that has failed stops its other workers. */
  synchronized void stop() {
    stopped = true;
  }

  /** One thread's reusable batch of pages, as pieces of frames that follow each other. */
  static final class Batch {
    private final int capacity;
    private final long[] addresses;
    private final MemorySegment[] frames;
    private final int[] pages;
    private final int[] mappings;
    private int pieces;
    private int size;
    private long sequence;

    Batch(int capacity) {
      this.capacity = capacity;
      addresses = new long[capacity];
      frames = new MemorySegment[capacity];
      pages = new int[capacity];
      mappings = new int[capacity];
    }

    private void add(long address, MemorySegment run, int count, int mapping) {
      addresses[pieces] = address;
      frames[pieces] = run;
      pages[pieces] = count;
      mappings[pieces] = mapping;
      pieces++;
      size += count;
    }

    /** Pages in the batch. */
    int size() {
      return size;
    }

    /** Pieces in the batch. */
    int pieces() {
      return pieces;
    }

    /** The address of the first page of piece {@code i}. */
    long address(int i) {
      return addresses[i];
    }

    /** The frames of piece {@code i}, one after the other. */
    MemorySegment frames(int i) {
      return frames[i];
    }

    /** The pages of piece {@code i}. */
    int pages(int i) {
      return pages[i];
    }

    /** Which of the cursor's mappings piece {@code i} is in. */
    int mapping(int i) {
      return mappings[i];
    }

    long sequence() {
      return sequence;
    }
  }
}
