package dev.accr.engine;

import dev.accr.kernel.DirtyPages;
import dev.accr.kernel.Vma;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/** Which pages of a mapping a dump stores: all touched ones, or those written since a parent. */
@FunctionalInterface
interface PageSelection {
  /** Every touched page: a full dump. */
  PageSelection ALL_TOUCHED = Vma::nextTouchedPage;

  /**
   * The index of the first page to store at or after page {@code index} of {@code vma}, or -1:
   * a cursor, so that a dump lists nothing ahead and skips untouched stretches.
   */
  long next(Vma vma, long index);

  /** The pages written in the period {@code dirty} describes. */
  static PageSelection written(DirtyPages dirty) {
    return dirty::nextWrittenPage;
  }

  /** This selection, of the mappings {@code vmas} only (those recorded in the set's mm). */
  default PageSelection of(List<Vma> vmas) {
    Set<Vma> known = Collections.newSetFromMap(new IdentityHashMap<>());
    known.addAll(vmas);
    return (vma, index) -> known.contains(vma) ? next(vma, index) : -1;
  }
}
