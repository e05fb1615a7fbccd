package dev.accr.kernel;

import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The write tracking of one address space, like Linux's soft-dirty bits: periods, each with a
 * label, whose written pages an incremental dump stores. Private mappings keep their bits in
 * their page tables; a shared-memory object tracks its own writes once for all its mappings.
 * Guarded by the address space's lock: every method is called holding it.
 */
final class WriteTracking {
  private boolean tracking;
  private String since;

  /** The label of the current period, or null when writes are not tracked. */
  String since() {
    return tracking ? since : null;
  }

  /** A mapping made now: while writes are tracked, every page of it counts as written. */
  void mapped(Vma vma) {
    if (tracking) {
      vma.mappedWhileTracked = true;
      if (vma.shared() == null) {
        vma.pageTable().dirtyBits().swap(true);
      } // a shared object tracks its own writes, for every holder at once
    }
  }

  /**
   * Ends the current period of {@code memory}, whose mappings are {@code vmas}, and starts
   * {@code label}; shared objects end theirs once in {@code step}.
   */
  DirtyPages end(AddressSpace memory, Collection<Vma> vmas, String label, SharedWrites step) {
    Map<Vma, DirtyPages.Period> periods = new IdentityHashMap<>();
    String ending = since();
    for (Vma vma : vmas) {
      if (vma.shared() != null) {
        SharedMemory.Ended e = step.end(vma.shared(), label);
        periods.put(vma, new DirtyPages.Period(e.bits(), vma.mappedWhileTracked || !tracking
            || e.since() == null || !e.since().equals(ending), e));
      } else {
        periods.put(vma, new DirtyPages.Period(vma.pageTable().dirtyBits().swap(true),
            vma.mappedWhileTracked || !tracking));
      }
      vma.mappedWhileTracked = false;
    }
    DirtyPages ended = new DirtyPages(memory, ending, label, periods);
    tracking = true;
    since = label;
    return ended;
  }

  /** Stops tracking writes of {@code vmas}: the write path is back to its untracked cost. */
  void stop(Collection<Vma> vmas) {
    for (Vma vma : vmas) {
      if (vma.shared() == null) { // a shared object's other holders may still track it
        vma.pageTable().dirtyBits().swap(false);
      }
      vma.mappedWhileTracked = false;
    }
    tracking = false;
    since = null;
  }

  /**
   * Gives the pages of an ended period back to the current one, as if it had not ended;
   * {@code vmas} maps the mappings there are now by start.
   */
  void putBack(DirtyPages ended, Map<Long, Vma> vmas) {
    if (!tracking || !ended.label().equals(since)) {
      return; // another period began since: it already starts from scratch
    }
    for (Map.Entry<Vma, DirtyPages.Period> e : ended.periods().entrySet()) {
      if (e.getValue().shared() != null) {
        e.getKey().shared().putBack(ended.label(), e.getValue().shared());
      }
    }
    if (ended.since() == null) {
      stop(vmas.values());
      return;
    }
    for (Map.Entry<Vma, DirtyPages.Period> e : ended.periods().entrySet()) {
      Vma vma = e.getKey();
      if (vmas.get(vma.start()) != vma || vma.shared() != null) {
        continue;
      }
      if (e.getValue().wholeMapping()) {
        vma.mappedWhileTracked = true;
      } else {
        vma.pageTable().dirtyBits().restore(e.getValue().bits());
      }
    }
    since = ended.since();
  }
}
