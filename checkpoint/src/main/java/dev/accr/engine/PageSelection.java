package dev.accr.engine;

import dev.accr.kernel.DirtyPages;
import dev.accr.kernel.Vma;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Which pages of a mapping a dump stores: all touched ones, or those written since a parent.
 * Pages are found as runs, so that a dump's cost follows the runs it stores and not the pages
 * between them.
 */
interface PageSelection {
  /** Every touched page: a full dump. */
  PageSelection ALL_TOUCHED = new PageSelection() {
    @Override
    public long next(Vma vma, long index) {
      return vma.nextTouchedPage(index);
    }

    @Override
    public int run(Vma vma, long index, int max) {
      return max; // bounded by the touched pages' run of frames
    }

    @Override
    public long count(Vma vma) {
      return vma.touchedPages();
    }

    @Override
    public long bound(Vma vma) {
      return vma.touchedPages();
    }

    @Override
    public boolean everyTouched() {
      return true;
    }
  };

  /**
   * The index of the first page to store at or after page {@code index} of {@code vma}, or -1:
   * a cursor, so that a dump lists nothing ahead and skips untouched stretches.
   */
  long next(Vma vma, long index);

  /**
   * How many pages from {@code index} on (a page {@link #next} gave), at most {@code max}, are
   * selected one after the other, or could be: a touched page that is not selected ends the
   * run, an untouched one may not (the caller's run of frames ends there).
   */
  default int run(Vma vma, long index, int max) {
    int n = 1;
    while (n < max && next(vma, index + n) == index + n) {
      n++;
    }
    return n;
  }

  /** The number of touched pages of {@code vma} this selection selects. */
  default long count(Vma vma) {
    long n = 0;
    for (long i = next(vma, 0); i >= 0; ) {
      int run = run(vma, i, Integer.MAX_VALUE);
      int touched = vma.frameRun(i, run);
      n += Math.max(1, touched);
      i = next(vma, i + Math.max(1, touched));
    }
    return n;
  }

  /**
   * At least {@link #count}, found without visiting the pages (what sizes a dump's workers and
   * its progress): the pages of a selection are then visited once, by the dump.
   */
  default long bound(Vma vma) {
    return count(vma);
  }

  /** Whether every touched page is selected (runs of pages then follow the runs of frames). */
  default boolean everyTouched() {
    return false;
  }

  /** The pages written in the period {@code dirty} describes. */
  static PageSelection written(DirtyPages dirty) {
    return new PageSelection() {
      @Override
      public long next(Vma vma, long index) {
        return dirty.nextWrittenPage(vma, index);
      }

      @Override
      public int run(Vma vma, long index, int max) {
        return dirty.writtenRun(vma, index, max);
      }

      @Override
      public long bound(Vma vma) {
        return dirty.writtenPagesAtMost(vma);
      }
    };
  }

  /** This selection, of the mappings {@code vmas} only (those recorded in the set's mm). */
  default PageSelection of(List<Vma> vmas) {
    Set<Vma> known = Collections.newSetFromMap(new IdentityHashMap<>());
    known.addAll(vmas);
    PageSelection all = this;
    return new PageSelection() {
      @Override
      public long next(Vma vma, long index) {
        return known.contains(vma) ? all.next(vma, index) : -1;
      }

      @Override
      public int run(Vma vma, long index, int max) {
        return all.run(vma, index, max);
      }

      @Override
      public long count(Vma vma) {
        return known.contains(vma) ? all.count(vma) : 0;
      }

      @Override
      public long bound(Vma vma) {
        return known.contains(vma) ? all.bound(vma) : 0;
      }

      @Override
      public boolean everyTouched() {
        return all.everyTouched();
      }
    };
  }
}
