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
  PageSelection ALL_TOUCHED = Vma::forEachTouchedPage;

  /** Visits the pages of {@code vma} to store, in address order. */
  void forEach(Vma vma, Vma.TouchedPageVisitor visitor);

  /**
   * The pages written in the period {@code dirty} describes.
   */
  static PageSelection written(DirtyPages dirty) {
    return dirty::forEachWrittenPage;
  }

  /** This selection, of the mappings {@code vmas} only (those recorded in the set's mm). */
  default PageSelection of(List<Vma> vmas) {
    Set<Vma> known = Collections.newSetFromMap(new IdentityHashMap<>());
    known.addAll(vmas);
    return (vma, visitor) -> {
      if (known.contains(vma)) {
        forEach(vma, visitor);
      }
    };
  }
}
