package dev.accr.kernel;

import static dev.accr.api.MemoryView.PAGE_SIZE;

import dev.accr.api.AccrException;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.TreeMap;

/**
 * Pages of a process that is not on this node yet, by address, in frames a restored address
 * space can adopt without a copy ({@link AddressSpace#adoptStaged}): the target of a migration
 * loads the rounds sent ahead of the stop into them. A page written again is overwritten in
 * place; a page dropped ({@link #drop}) is no longer staged. Frames come in slots of 2 MiB of
 * addresses, each a block of its own, so that a run of pages is a run of frames; they count
 * in the node's memory (resident, and staged) until adopted or closed.
 */
public final class StagedPages implements AutoCloseable {
  static final int SLOT_PAGES = 512;
  private static final int WORDS = SLOT_PAGES / Long.SIZE;

  private final NodeMemory accounting;
  private final FramePool frames;
  /** Slot (address / 2 MiB) to its frames and which of its pages are staged. */
  private final TreeMap<Long, Slot> slots = new TreeMap<>();
  private long pages;
  private boolean closed;

  private record Slot(long ref, long[] staged) {}

  StagedPages(NodeMemory accounting) {
    this.accounting = accounting;
    this.frames = new FramePool(accounting);
  }

  /** Stores {@code count} whole pages from {@code source} at {@code address} and on. */
  public synchronized void write(long address, MemorySegment source, long sourceOffset,
      int count) {
    checkRun(address, count);
    long page = address / PAGE_SIZE;
    long added = 0;
    for (long done = 0; done < count; ) {
      long index = page + done;
      int within = (int) (index % SLOT_PAGES);
      int n = (int) Math.min(count - done, SLOT_PAGES - within);
      Slot slot = slots.computeIfAbsent(index / SLOT_PAGES,
          k -> new Slot(frames.allocateBlock(SLOT_PAGES), new long[WORDS]));
      MemorySegment.copy(source, sourceOffset + done * PAGE_SIZE,
          frames.frames(slot.ref() + within, n), 0, (long) n * PAGE_SIZE);
      for (int i = within; i < within + n; i++) {
        long bit = 1L << (i & 63);
        if ((slot.staged()[i >>> 6] & bit) == 0) {
          slot.staged()[i >>> 6] |= bit;
          added++;
        }
      }
      done += n;
    }
    count(added);
  }

  /** Forgets the staged pages among the {@code count} pages at {@code address}. */
  public synchronized void drop(long address, long count) {
    checkRun(address, 0);
    if (count <= 0) {
      return;
    }
    long first = address / PAGE_SIZE;
    long dropped = 0;
    for (Map.Entry<Long, Slot> e : slots.subMap(first / SLOT_PAGES, true,
        (first + count - 1) / SLOT_PAGES, true).entrySet()) {
      long base = e.getKey() * SLOT_PAGES;
      long[] staged = e.getValue().staged();
      for (long p = Math.max(first, base); p < Math.min(first + count, base + SLOT_PAGES); p++) {
        int i = (int) (p - base);
        long bit = 1L << (i & 63);
        if ((staged[i >>> 6] & bit) != 0) {
          staged[i >>> 6] &= ~bit;
          dropped++;
        }
      }
    }
    frames.release(dropped);
    accounting.addStaged(-dropped);
    pages -= dropped;
  }

  private void count(long added) {
    frames.adopt((int) added);
    accounting.addStaged(added);
    pages += added;
  }

  private void checkRun(long address, long count) {
    if (closed) {
      throw new IllegalStateException("staged pages are closed");
    }
    if (address < 0 || address % PAGE_SIZE != 0 || count < 0
        || address + count * PAGE_SIZE > AddressSpace.MAX_ADDRESS) {
      throw AccrException.failed("staged run of %d pages at %x leaves the address space", count,
          address);
    }
  }

  /** The pages staged. */
  public synchronized long pages() {
    return pages;
  }

  /** The pages staged inside {@code [start, end)}. */
  public synchronized long pagesWithin(long start, long end) {
    long[] n = {0};
    forEachRun(start, end, (address, ref, count) -> n[0] += count);
    return n[0];
  }

  /** Receives a run of staged pages: its address, its first frame's reference, its length. */
  @FunctionalInterface
  interface RunVisitor {
    void visit(long address, long ref, int count);
  }

  /** Visits the runs of staged pages inside {@code [start, end)}, in address order. */
  synchronized void forEachRun(long start, long end, RunVisitor visitor) {
    if (end <= start) {
      return;
    }
    long first = start / PAGE_SIZE;
    long last = (end - 1) / PAGE_SIZE;
    for (Map.Entry<Long, Slot> e : slots.subMap(first / SLOT_PAGES, true, last / SLOT_PAGES,
        true).entrySet()) {
      long base = e.getKey() * SLOT_PAGES;
      long[] staged = e.getValue().staged();
      int from = (int) Math.max(0, first - base);
      int to = (int) Math.min(SLOT_PAGES - 1, last - base);
      for (int i = from; i <= to; ) {
        if ((staged[i >>> 6] & (1L << (i & 63))) == 0) {
          i++;
          continue;
        }
        int j = i;
        while (j + 1 <= to && (staged[(j + 1) >>> 6] & (1L << ((j + 1) & 63))) != 0) {
          j++;
        }
        visitor.visit((base + i) * PAGE_SIZE, e.getValue().ref() + i, j - i + 1);
        i = j + 1;
      }
    }
  }

  /**
   * Hands the frames to {@code taker} (they are its pool's now) and ends this stage: returns
   * what to add to a reference of this stage's to name the frame in the taker's pool, and how
   * many pages were staged; the caller releases those it does not map.
   */
  synchronized long[] handOver(FramePool taker) {
    if (closed) {
      throw new IllegalStateException("staged pages are closed");
    }
    long shift = taker.absorb(frames);
    long staged = pages;
    accounting.addStaged(-pages);
    pages = 0;
    closed = true;
    return new long[] {shift, staged};
  }

  /** Frees every frame not handed over. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    accounting.addStaged(-pages);
    pages = 0;
    slots.clear();
    frames.close();
  }
}
