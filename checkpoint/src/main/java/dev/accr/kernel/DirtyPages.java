package dev.accr.kernel;

import dev.accr.api.MemoryView;
import java.util.Map;

/**
 * The pages of an address space written during one ended period of write tracking
 * ({@link AddressSpace#trackWrites}): what an incremental dump stores. A mapping that appeared
 * during the period, or any mapping when the period was not tracked, counts as written whole.
 */
public final class DirtyPages {
  /**
   * One mapping's bits of the period; {@code wholeMapping} when every page counts;
   * {@code shared} the period of the shared-memory object the mapping shows (null: private).
   */
  record Period(long[][] bits, boolean wholeMapping, SharedMemory.Ended shared) {
    Period(long[][] bits, boolean wholeMapping) {
      this(bits, wholeMapping, null);
    }
  }

  private final AddressSpace memory;
  private final String since;
  private final String label;
  private final Map<Vma, Period> periods;

  DirtyPages(AddressSpace memory, String since, String label, Map<Vma, Period> periods) {
    this.memory = memory;
    this.since = since;
    this.label = label;
    this.periods = periods;
  }

  /** The label of the period that ended, or null when writes were not tracked before. */
  public String since() {
    return since;
  }

  /** The label of the period that began. */
  public String label() {
    return label;
  }

  Map<Vma, Period> periods() {
    return periods;
  }

  /** Whether {@code vma} was mapped when the period ended. */
  public boolean knows(Vma vma) {
    return periods.containsKey(vma);
  }

  /** Whether every page of {@code vma} counts as written. */
  public boolean wholeMapping(Vma vma) {
    Period p = periods.get(vma);
    return since == null || p == null || p.wholeMapping() || p.bits() == null;
  }

  /**
   * The index of the first page of {@code vma} at or after page {@code index} that was written
   * in the period (and is touched), or -1.
   */
  public long nextWrittenPage(Vma vma, long index) {
    if (wholeMapping(vma)) {
      return vma.nextTouchedPage(index);
    }
    return vma.pageTable().dirtyBits().next(periods.get(vma).bits(), index);
  }

  /**
   * How many pages from page {@code index} of {@code vma} on, at most {@code max}, were written
   * in the period one after the other (touched or not); {@code max} for a mapping that counts
   * as written whole.
   */
  public int writtenRun(Vma vma, long index, int max) {
    if (wholeMapping(vma)) {
      return max;
    }
    return DirtyBits.run(periods.get(vma).bits(), index, max);
  }

  /**
   * At least the number of pages of {@code vma} that {@link #nextWrittenPage} finds, without
   * visiting them: the pages written in the period, touched or not (every touched page of a
   * mapping that counts as written whole).
   */
  public long writtenPagesAtMost(Vma vma) {
    if (wholeMapping(vma)) {
      return vma.touchedPages();
    }
    return DirtyBits.count(periods.get(vma).bits());
  }

  /**
   * Visits the runs of pages of {@code vma} written in the period, written or not since
   * touched: the pages whose content an earlier dump no longer describes.
   */
  public void forEachWrittenRun(Vma vma, RunVisitor visitor) {
    if (wholeMapping(vma)) {
      visitor.visit(vma.start(), vma.pageCount());
      return;
    }
    DirtyBits.forEachRun(periods.get(vma).bits(),
        (first, pages) -> visitor.visit(vma.start() + first * MemoryView.PAGE_SIZE, pages));
  }

  /**
   * These pages with every page of {@code vmas} counting as written (e.g. shared memory whose
   * pages the parent stored under another mapping).
   */
  public DirtyPages countingWhole(java.util.Collection<Vma> vmas) {
    if (vmas.isEmpty()) {
      return this;
    }
    Map<Vma, Period> copy = new java.util.IdentityHashMap<>(periods);
    for (Vma vma : vmas) {
      Period p = copy.get(vma);
      copy.put(vma, new Period(p == null ? null : p.bits(), true, p == null ? null : p.shared()));
    }
    return new DirtyPages(memory, since, label, copy);
  }

  /** Gives these pages back to the current period (the dump that took them failed). */
  public void putBack() {
    memory.putBack(this);
  }

  /** Receives a run of pages: its first address and its length in pages. */
  @FunctionalInterface
  public interface RunVisitor {
    void visit(long address, long pages);
  }
}
