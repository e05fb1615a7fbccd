package dev.accr.engine;

import dev.accr.api.AccrException;
import dev.accr.api.MemoryView;
import dev.accr.kernel.AddressSpace;
import dev.accr.kernel.PageFaults;
import dev.accr.kernel.Vma;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The host pages of a lazily restored process that are not present yet, and their loading.
 * Each unit of the {@link PageSource} is absent, loading or present: a first touch of one of
 * its pages (a fault) loads it on the touching thread, jumping the pusher's queue; the pusher
 * loads the others in order ({@link #pushNext}). Whoever moves a unit from absent to loading
 * loads it; anyone else touching it waits, so a unit is loaded once. Its pages are filled in
 * frames that are mapped only once full, so no access sees a page half loaded, and a write
 * always lands on the loaded contents.
 */
final class LazyPages implements PageFaults {
  private static final int ABSENT = 0;
  private static final int LOADING = 1;
  private static final int PRESENT = 2;
  private static final int PAGE = MemoryView.PAGE_SIZE;

  private final AddressSpace memory;
  private final PageSource source;
  /** Start address of every run: {end address, unit}. */
  private final TreeMap<Long, long[]> runs = new TreeMap<>();
  private final AtomicIntegerArray states;
  private final long[] unitPages;
  private final AtomicLong pagesFaulted = new AtomicLong();
  private final AtomicLong pagesPushed = new AtomicLong();
  private final long pagesTotal;
  private final Object changed = new Object();
  private volatile RuntimeException failure;
  /** Why a load failed (not set when loading was only abandoned). */
  private volatile String loadFailure;
  private int nextPush;
  private int present;

  LazyPages(AddressSpace memory, PageSource source) {
    this.memory = memory;
    this.source = source;
    List<List<PageSource.Run>> units = source.units();
    this.states = new AtomicIntegerArray(units.size());
    this.unitPages = new long[units.size()];
    long total = 0;
    for (int u = 0; u < units.size(); u++) {
      for (PageSource.Run r : units.get(u)) {
        runs.put(r.vaddr(), new long[] {r.vaddr() + (long) r.pages() * PAGE, u});
        unitPages[u] += r.pages();
      }
      total += unitPages[u];
    }
    this.pagesTotal = total;
  }

  @Override
  public boolean fault(Vma vma, long index) {
    long address = vma.start() + index * PAGE;
    var run = runs.floorEntry(address);
    if (run == null || address >= run.getValue()[0]) {
      return false; // a page the set does not hold: zeros, as after an eager restore
    }
    ensure((int) run.getValue()[1], true);
    return true;
  }

  /** Loads unit {@code u} unless someone did or does; returns once it is present. */
  private void ensure(int u, boolean byFault) {
    while (true) {
      int state = states.get(u);
      if (state == PRESENT) {
        return;
      }
      RuntimeException failed = failure;
      if (failed != null) {
        throw failed;
      }
      if (state == ABSENT && states.compareAndSet(u, ABSENT, LOADING)) {
        load(u, byFault);
        return;
      }
      synchronized (changed) {
        while (states.get(u) == LOADING && failure == null) {
          try {
            changed.wait();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw AccrException.failed("killed while waiting for a page from %s",
                source.describe());
          }
        }
      }
    }
  }

  private void load(int u, boolean byFault) {
    try {
      source.load(u, byFault, (run, data, offset) -> {
        MemorySegment block = memory.unmappedRun(run.pages());
        MemorySegment.copy(data, offset, block, 0, (long) run.pages() * PAGE);
        memory.installRun(run.vaddr(), block, run.pages());
      });
    } catch (IOException | RuntimeException e) {
      RuntimeException f = AccrException.failed("lazy restore: a page could not be loaded from"
          + " %s: %s", source.describe(), e.getMessage());
      f.initCause(e);
      // The address space was freed under the load: the process is gone, nothing failed.
      boolean gone = e instanceof IllegalStateException;
      synchronized (changed) {
        if (failure == null) {
          failure = f;
          loadFailure = gone ? null : f.getMessage();
        }
        changed.notifyAll();
      }
      throw failure;
    }
    (byFault ? pagesFaulted : pagesPushed).addAndGet(unitPages[u]);
    synchronized (changed) {
      states.set(u, PRESENT);
      present++;
      changed.notifyAll();
    }
  }

  /**
   * Loads the next absent unit in order; returns false once every unit is present. Throws
   * what stopped the loading (the process must then die).
   */
  boolean pushNext() {
    int u;
    synchronized (changed) {
      while (nextPush < unitPages.length && states.get(nextPush) != ABSENT) {
        nextPush++;
      }
      if (nextPush == unitPages.length) {
        return !allPresentOrWait();
      }
      u = nextPush++;
    }
    ensure(u, false);
    return true;
  }

  /** True once every unit is present; waits for the loads under way by faults. */
  private boolean allPresentOrWait() {
    while (present < unitPages.length && failure == null) {
      try {
        changed.wait();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw AccrException.failed("lazy restore stopped");
      }
    }
    if (failure != null) {
      throw failure;
    }
    return true;
  }

  /** Makes every waiter give up: the process is gone. */
  void abandon(String why) {
    synchronized (changed) {
      if (failure == null) {
        failure = AccrException.failed("lazy restore stopped: %s", why);
      }
      changed.notifyAll();
    }
  }

  /** Why a page could not be loaded, or null. */
  String loadFailure() {
    return loadFailure;
  }

  long pagesFaulted() {
    return pagesFaulted.get();
  }

  long pagesPushed() {
    return pagesPushed.get();
  }

  long pagesTotal() {
    return pagesTotal;
  }

  PageSource source() {
    return source;
  }
}
